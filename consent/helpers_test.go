package consent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// tpoConsent is a typical 42 CFR Part 2 consent: deny by default, permit
// Organization/x for treatment, payment and operations until the end of 2026.
const tpoConsent = `{
  "resourceType": "Consent",
  "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
  "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
  "patient": {"reference": "Patient/p1"},
  "dateTime": "2026-02-16",
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}]},
  "provision": {
    "type": "deny",
    "period": {"start": "2026-02-16", "end": "2026-12-31"},
    "provision": [{
      "type": "permit",
      "actor": [{
        "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
        "reference": {"reference": "Organization/x"}
      }],
      "purpose": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"},
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HPAYMT"},
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HOPERAT"}
      ]
    }]
  }
}`

// edit returns s with old replaced by new, failing when old is absent so a
// test case cannot silently test the unmodified consent.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("edit: %q not in consent", old)
	}
	return strings.Replace(s, old, new, 1)
}

// consentOf returns tpoConsent for another patient and id ("" for none).
func consentOf(t *testing.T, patient, id string) string {
	t.Helper()
	s := edit(t, tpoConsent, `"Patient/p1"`, `"`+patient+`"`)
	if id == "" {
		return s
	}
	return edit(t, s, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "`+id+`",`)
}

// openDB opens a fresh bbolt file in a temporary directory.
func openDB(t testing.TB) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("opening bbolt: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newStore opens a Store on a fresh database.
func newStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(openDB(t), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// mustPut stores raw and fails the test on error.
func mustPut(t *testing.T, s *Store, raw string) Record {
	t.Helper()
	rec, err := s.Put(context.Background(), []byte(raw))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return rec
}

// fixedClock returns a clock stopped at when.
func fixedClock(when time.Time) func() time.Time {
	return func() time.Time { return when }
}

// mustTime parses an RFC 3339 time.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
