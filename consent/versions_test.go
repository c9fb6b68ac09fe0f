package consent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestCreateIgnoresID checks that Create assigns a new id every time.
func TestCreateIgnoresID(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	raw := []byte(consentOf(t, "Patient/p1", "chosen"))
	a, err := s.Create(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "chosen" || b.ID == "chosen" || a.ID == b.ID || a.Version != 1 || b.Version != 1 {
		t.Errorf("Create gave %s v%d and %s v%d; want two new ids at v1", a.ID, a.Version, b.ID, b.Version)
	}
	if !strings.Contains(string(a.JSON), `"id":"`+a.ID+`"`) {
		t.Errorf("stored JSON keeps the submitted id: %.120s", a.JSON)
	}
}

// TestUpdate checks FHIR update: same id required, update-as-create, and the
// If-Match precondition; a refused update changes nothing.
func TestUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		urlID       string
		raw         func(t *testing.T) string
		ifMatch     uint64
		wantVersion uint64
		wantErr     error  // sentinel, or nil
		wantPath    string // validation problem path, or ""
	}{
		{name: "next version", urlID: "c1", raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "c1") }, wantVersion: 2},
		{name: "If-Match current", urlID: "c1", ifMatch: 1, raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "c1") }, wantVersion: 2},
		{name: "update as create", urlID: "new", raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "new") }, wantVersion: 1},
		{name: "If-Match stale", urlID: "c1", ifMatch: 7, raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "c1") }, wantErr: ErrConflict},
		{name: "If-Match on a consent that does not exist", urlID: "new", ifMatch: 1, raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "new") }, wantErr: ErrConflict},
		{name: "id differs", urlID: "c1", raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "c2") }, wantPath: "Consent.id"},
		{name: "id missing", urlID: "c1", raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "") }, wantPath: "Consent.id"},
		{name: "URL id not a FHIR id", urlID: "c 1", raw: func(t *testing.T) string { return consentOf(t, "Patient/p1", "c1") }, wantPath: "Consent.id"},
		{name: "invalid consent", urlID: "c1", raw: func(t *testing.T) string {
			return edit(t, consentOf(t, "Patient/p1", "c1"), `"status": "active"`, `"status": "gone"`)
		}, wantPath: "Consent.status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ctx := context.Background()
			mustPut(t, s, consentOf(t, "Patient/p1", "c1"))
			rec, err := s.Update(ctx, tt.urlID, []byte(tt.raw(t)), tt.ifMatch)
			switch {
			case tt.wantPath != "":
				assertProblems(t, err, []string{tt.wantPath})
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Update error = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Update: %v", err)
			case rec.Version != tt.wantVersion || rec.ID != tt.urlID:
				t.Errorf("Update = %s v%d, want %s v%d", rec.ID, rec.Version, tt.urlID, tt.wantVersion)
			}
			if err != nil {
				assertUnchanged(t, s, "c1", 1, 1)
			}
		})
	}
}

// assertUnchanged checks that consent id is still at version and the
// patient's counter at patientVersion.
func assertUnchanged(t *testing.T, s *Store, id string, version, patientVersion uint64) {
	t.Helper()
	ctx := context.Background()
	if rec, err := s.Get(ctx, id); err != nil || rec.Version != version {
		t.Errorf("after a refused write, %s is v%d (%v), want v%d", id, rec.Version, err, version)
	}
	if n, _ := s.PatientVersion(ctx, "Patient/p1"); n != patientVersion {
		t.Errorf("after a refused write, PatientVersion = %d, want %d", n, patientVersion)
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p1"); len(recs) != 1 {
		t.Errorf("after a refused write, Patient/p1 has %d consents, want 1", len(recs))
	}
}

// TestVersionAndHistory checks vread and history over three versions, and
// that consents whose ids share a prefix stay apart.
func TestVersionAndHistory(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	var puts []Record
	for range 3 {
		puts = append(puts, mustPut(t, s, consentOf(t, "Patient/p1", "c")))
	}
	mustPut(t, s, consentOf(t, "Patient/p1", "c.1"))
	mustPut(t, s, consentOf(t, "Patient/p1", "cc"))
	for _, want := range puts {
		got, err := s.Version(ctx, "c", want.Version)
		if err != nil || string(got.JSON) != string(want.JSON) || got.Version != want.Version {
			t.Errorf("Version(c, %d) = v%d, %v; want the stored version", want.Version, got.Version, err)
		}
	}
	for _, tc := range []struct {
		id      string
		version uint64
	}{{"c", 4}, {"c", 0}, {"missing", 1}} {
		if _, err := s.Version(ctx, tc.id, tc.version); !errors.Is(err, ErrNotFound) {
			t.Errorf("Version(%s, %d) error = %v, want ErrNotFound", tc.id, tc.version, err)
		}
	}
	hist, err := s.History(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, r := range hist {
		got = append(got, r.Version)
		if r.ID != "c" {
			t.Errorf("history of c holds %s", r.ID)
		}
	}
	if len(got) != 3 || got[0] != 3 || got[2] != 1 {
		t.Errorf("History(c) versions = %v, want [3 2 1]", got)
	}
	if _, err := s.History(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("History(missing) error = %v, want ErrNotFound", err)
	}
}

// TestRevoke checks that revocation stores a new version with the status
// changed, keeps the old ones, bumps the patient, and is idempotent.
func TestRevoke(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	orig := mustPut(t, s, consentOf(t, "Patient/p1", "c1"))
	steps := []struct {
		status      string
		wantStatus  string
		wantVersion uint64
		wantChanged bool
		wantPV      uint64
	}{
		{"", "inactive", 2, true, 2},
		{"inactive", "inactive", 2, false, 2},
		{"entered-in-error", "entered-in-error", 3, true, 3},
	}
	for _, st := range steps {
		rec, changed, err := s.Revoke(ctx, "c1", st.status)
		if err != nil {
			t.Fatalf("Revoke(%q): %v", st.status, err)
		}
		if rec.Status != st.wantStatus || rec.Version != st.wantVersion || changed != st.wantChanged {
			t.Errorf("Revoke(%q) = %s v%d changed %v; want %s v%d changed %v",
				st.status, rec.Status, rec.Version, changed, st.wantStatus, st.wantVersion, st.wantChanged)
		}
		if m := readMeta(t, rec); m.Status != st.wantStatus || m.Meta.VersionID != fmt.Sprint(st.wantVersion) {
			t.Errorf("stored status %q, versionId %q; want %q, %d", m.Status, m.Meta.VersionID, st.wantStatus, st.wantVersion)
		}
		if pv, _ := s.PatientVersion(ctx, "Patient/p1"); pv != st.wantPV {
			t.Errorf("PatientVersion after Revoke(%q) = %d, want %d", st.status, pv, st.wantPV)
		}
	}
	first, err := s.Version(ctx, "c1", 1)
	if err != nil || string(first.JSON) != string(orig.JSON) {
		t.Errorf("version 1 changed by revocation: %v", err)
	}
	last, _ := s.Get(ctx, "c1")
	_, origProvision, _ := strings.Cut(string(orig.JSON), `"provision":`)
	_, lastProvision, _ := strings.Cut(string(last.JSON), `"provision":`)
	if origProvision == "" || lastProvision != origProvision {
		t.Errorf("revocation changed the provision:\n%s\nwant\n%s", lastProvision, origProvision)
	}
}

// TestRevokeErrors checks the refusals.
func TestRevokeErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	mustPut(t, s, consentOf(t, "Patient/p1", "c1"))
	tests := []struct {
		name, id, status string
		want             func(error) bool
	}{
		{"unknown consent", "nope", "", func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"status not a revocation", "c1", "draft", func(err error) bool { var v *ValidationError; return errors.As(err, &v) }},
		{"status active", "c1", "active", func(err error) bool { var v *ValidationError; return errors.As(err, &v) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := s.Revoke(context.Background(), tt.id, tt.status); !tt.want(err) {
				t.Errorf("Revoke error = %v", err)
			}
		})
	}
	assertUnchanged(t, s, "c1", 1, 1)
}

// storeLegacy writes raw as consent id without validation, as a consent
// stored under older rules would be.
func storeLegacy(t *testing.T, s *Store, id, status, raw string) {
	t.Helper()
	rec := Record{ID: id, Version: 1, Patient: "Patient/p1", Status: status, Updated: s.now().UTC(), JSON: []byte(raw)}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		return commit(b, rec, Record{})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRevokeLegacyConsent checks that a consent which no longer validates
// can still be revoked, and then stops failing the patient's normalisation.
func TestRevokeLegacyConsent(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	legacy := edit(t, consentOf(t, "Patient/p1", "old"), `"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"`, `"code": "TREAT"`)
	storeLegacy(t, s, "old", "active", legacy)
	if _, _, err := s.Normalized(ctx, "Patient/p1"); err == nil {
		t.Fatal("Normalized read an active consent that does not validate")
	}
	if _, _, err := s.Revoke(ctx, "old", ""); err != nil {
		t.Fatalf("Revoke of a legacy consent: %v", err)
	}
	ns, _, err := s.Normalized(ctx, "Patient/p1")
	if err != nil || len(ns) != 1 || ns[0].Status != "inactive" || len(ns[0].Rules) != 0 {
		t.Errorf("Normalized after revoking = %+v, %v; want one inactive consent without rules", ns, err)
	}
}
