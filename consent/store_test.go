package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// storedMeta is the part of a stored resource the store writes.
type storedMeta struct {
	ID   string `json:"id"`
	Meta struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
		Security    []struct {
			Code string `json:"code"`
		} `json:"security"`
	} `json:"meta"`
	Status string `json:"status"`
}

// readMeta decodes the store-written parts of a record's JSON.
func readMeta(t *testing.T, rec Record) storedMeta {
	t.Helper()
	var m storedMeta
	if err := json.Unmarshal(rec.JSON, &m); err != nil {
		t.Fatalf("stored JSON does not decode: %v\n%s", err, rec.JSON)
	}
	return m
}

// TestPutStampsAndVersions checks id assignment, meta stamping and that every
// version is kept while Get returns the latest.
func TestPutStampsAndVersions(t *testing.T) {
	t.Parallel()
	when := mustTime(t, "2026-03-01T12:34:56.789123Z")
	s := newStore(t, WithClock(fixedClock(when)))
	ctx := context.Background()

	first := mustPut(t, s, edit(t, tpoConsent, `"status": "active",`,
		`"meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]}, "status": "active",`))
	if first.Version != 1 || !fhirID.MatchString(first.ID) || len(first.ID) < 26 {
		t.Fatalf("first Put = id %q version %d, want a random FHIR id and version 1", first.ID, first.Version)
	}
	if !strings.HasPrefix(string(first.JSON), `{"resourceType":"Consent","id":"`+first.ID+`","meta":{`) {
		t.Errorf("stored JSON does not start with resourceType, id, meta: %.80s", first.JSON)
	}
	m := readMeta(t, first)
	if m.ID != first.ID || m.Meta.VersionID != "1" || m.Meta.LastUpdated != "2026-03-01T12:34:56.789Z" {
		t.Errorf("stamped id/meta = %q %+v", m.ID, m.Meta)
	}
	if len(m.Meta.Security) != 1 || m.Meta.Security[0].Code != "R" {
		t.Errorf("meta.security lost: %+v", m.Meta)
	}
	if !first.Updated.Equal(when.Truncate(time.Millisecond)) {
		t.Errorf("Updated = %v, want %v", first.Updated, when.Truncate(time.Millisecond))
	}

	second := mustPut(t, s, edit(t, string(first.JSON), `"status":"active"`, `"status":"inactive"`))
	if second.ID != first.ID || second.Version != 2 || second.Status != "inactive" {
		t.Fatalf("second Put = %s v%d %s, want %s v2 inactive", second.ID, second.Version, second.Status, first.ID)
	}
	if got := readMeta(t, second).Meta.VersionID; got != "2" {
		t.Errorf("meta.versionId = %q, want 2", got)
	}

	got, err := s.Get(ctx, first.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Version != 2 || got.Status != "inactive" || string(got.JSON) != string(second.JSON) ||
		got.Patient != "Patient/p1" || !got.Updated.Equal(second.Updated) {
		t.Errorf("Get = %+v, want the second version as Put returned it", got)
	}
	if n := countVersions(t, s, first.ID); n != 2 {
		t.Errorf("stored versions of %s = %d, want 2", first.ID, n)
	}
}

// countVersions counts the stored versions of consent id.
func countVersions(t *testing.T, s *Store, id string) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		prefix := append([]byte(id), 0)
		c := b.versions.Cursor()
		for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGetNotFound checks the sentinel error.
func TestGetNotFound(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	mustPut(t, s, consentOf(t, "Patient/p1", "c1"))
	tests := []string{"c2", "", "c"}
	for _, id := range tests {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			t.Parallel()
			if _, err := s.Get(context.Background(), id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
			}
		})
	}
}

// TestForPatient checks that each patient sees only their own consents, in
// their latest version.
func TestForPatient(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	mustPut(t, s, consentOf(t, "Patient/p1", "a"))
	mustPut(t, s, consentOf(t, "Patient/p1", "b"))
	mustPut(t, s, consentOf(t, "Patient/p10", "c"))
	mustPut(t, s, consentOf(t, "Patient/p2", "d"))
	mustPut(t, s, consentOf(t, "Patient/p1", "b")) // b becomes version 2

	tests := []struct {
		patient string
		want    []string // id@version
	}{
		{"Patient/p1", []string{"a@1", "b@2"}},
		{"Patient/p10", []string{"c@1"}},
		{"Patient/p2", []string{"d@1"}},
		{"Patient/p3", []string{}},
		{"Patient/p", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.patient, func(t *testing.T) {
			t.Parallel()
			recs, err := s.ForPatient(context.Background(), tt.patient)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range recs {
				if r.Patient != tt.patient {
					t.Errorf("record %s belongs to %s", r.ID, r.Patient)
				}
				got = append(got, fmt.Sprintf("%s@%d", r.ID, r.Version))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ForPatient(%s) = %v, want %v", tt.patient, got, tt.want)
			}
		})
	}
}

// TestPatientVersion checks that the counter moves with every change to a
// patient's consents, and not with a write that was refused.
func TestPatientVersion(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	steps := []struct {
		put    string
		p1, p2 uint64
	}{
		{put: consentOf(t, "Patient/p1", "a"), p1: 1, p2: 0},
		{put: consentOf(t, "Patient/p1", "a"), p1: 2, p2: 0},
		{put: consentOf(t, "Patient/p2", "b"), p1: 2, p2: 1},
		{put: consentOf(t, "Patient/p2", "a"), p1: 2, p2: 1}, // a cannot move from p1 to p2
	}
	for i, st := range steps {
		_, _ = s.Put(ctx, []byte(st.put))
		for patient, want := range map[string]uint64{"Patient/p1": st.p1, "Patient/p2": st.p2} {
			got, err := s.PatientVersion(ctx, patient)
			if err != nil || got != want {
				t.Errorf("step %d: PatientVersion(%s) = %d, %v; want %d", i, patient, got, err, want)
			}
		}
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p1"); len(recs) != 1 {
		t.Errorf("Patient/p1 lists %d consents, want 1", len(recs))
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p2"); len(recs) != 1 {
		t.Errorf("Patient/p2 lists %d consents, want 1", len(recs))
	}
}

// TestConsentCannotMoveToAnotherPatient checks that a new version of a
// consent for another patient is refused, by Update (PUT /admin/Consent/id)
// and by Put (import), whatever the earlier version's status, with a
// problem at Consent.patient.reference, and that nothing is stored: the
// other patient's records must not flow under a consent this patient signed.
func TestConsentCannotMoveToAnotherPatient(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	first := mustPut(t, s, consentOf(t, "Patient/p1", "a"))
	moved := consentOf(t, "Patient/p2", "a")
	writes := map[string]func() (Record, error){
		"Update":          func() (Record, error) { return s.Update(ctx, "a", []byte(moved), 0) },
		"Update If-Match": func() (Record, error) { return s.Update(ctx, "a", []byte(moved), first.Version) },
		"Put":             func() (Record, error) { return s.Put(ctx, []byte(moved)) },
	}
	for name, write := range writes {
		_, err := write()
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrPatientChanged) {
			t.Fatalf("%s: error = %v, want a *ValidationError wrapping ErrPatientChanged", name, err)
		}
		if len(ve.Problems) != 1 || ve.Problems[0].Path != "Consent.patient.reference" ||
			!strings.Contains(ve.Problems[0].Message, "cannot move to another patient") {
			t.Errorf("%s: problems = %+v", name, ve.Problems)
		}
	}
	if h, _ := s.History(ctx, "a"); len(h) != 1 {
		t.Errorf("History has %d versions, want 1", len(h))
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p2"); len(recs) != 0 {
		t.Errorf("Patient/p2 lists %d consents, want none", len(recs))
	}
	if v, _ := s.PatientVersion(ctx, "Patient/p2"); v != 0 {
		t.Errorf("PatientVersion(Patient/p2) = %d, want 0", v)
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p1"); len(recs) != 1 || recs[0].Version != 1 {
		t.Errorf("Patient/p1 lists %+v, want a@1", recs)
	}
	// A revoked consent does not move either; the same patient's next version is stored.
	if _, _, err := s.Revoke(ctx, "a", "entered-in-error"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "a", []byte(moved), 0); !errors.Is(err, ErrPatientChanged) {
		t.Errorf("Update of a revoked consent to another patient: %v", err)
	}
	if rec, err := s.Update(ctx, "a", []byte(consentOf(t, "Patient/p1", "a")), 0); err != nil || rec.Version != 3 {
		t.Errorf("Update for the same patient = %+v, %v", rec, err)
	}
}

// TestConcurrentPut checks that concurrent writers neither lose versions nor
// counter bumps.
func TestConcurrentPut(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	const writers = 50
	shared := consentOf(t, "Patient/p1", "shared")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		raw := shared
		if i%2 == 1 {
			raw = consentOf(t, "Patient/p1", "")
		}
		wg.Go(func() {
			if _, err := s.Put(ctx, []byte(raw)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	rec, err := s.Get(ctx, "shared")
	if err != nil || rec.Version != writers/2 {
		t.Errorf("shared consent = v%d, %v; want v%d", rec.Version, err, writers/2)
	}
	if n := countVersions(t, s, "shared"); n != writers/2 {
		t.Errorf("stored versions = %d, want %d", n, writers/2)
	}
	if n, _ := s.PatientVersion(ctx, "Patient/p1"); n != writers {
		t.Errorf("PatientVersion = %d, want %d", n, writers)
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p1"); len(recs) != writers/2+1 {
		t.Errorf("ForPatient = %d consents, want %d", len(recs), writers/2+1)
	}
}

// TestCanceledContext checks that no method works on a canceled context.
func TestCanceledContext(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"Put":            func() error { _, err := s.Put(ctx, []byte(tpoConsent)); return err },
		"Get":            func() error { _, err := s.Get(ctx, "a"); return err },
		"ForPatient":     func() error { _, err := s.ForPatient(ctx, "Patient/p1"); return err },
		"PatientVersion": func() error { _, err := s.PatientVersion(ctx, "Patient/p1"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s error = %v, want context.Canceled", name, err)
			}
		})
	}
}

// TestReopen checks that Open on an existing file keeps what was stored.
func TestReopen(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	s1, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s1.Put(context.Background(), []byte(tpoConsent))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get(context.Background(), rec.ID)
	if err != nil || got.Version != 1 {
		t.Errorf("Get after reopen = v%d, %v; want v1", got.Version, err)
	}
}
