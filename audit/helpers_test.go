package audit

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// t0 is the time of the first sample entry; sample entry i is i minutes later.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

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

// newLedger opens a Ledger on a fresh database.
func newLedger(t testing.TB, opts ...Option) *Ledger {
	t.Helper()
	l, err := Open(openDB(t), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() }) // before the database's (cleanups run last first)
	return l
}

// newLedgerMaybeSealed opens a ledger on a fresh database, encrypted when
// sealed; opts are the options it was opened with (for reopening it).
func newLedgerMaybeSealed(t *testing.T, sealed bool) (*bbolt.DB, *Ledger, []Option) {
	t.Helper()
	db := openDB(t)
	var opts []Option
	if sealed {
		opts = append(opts, WithSealer(openSealer(t, db, testKey(t, true))))
	}
	l, err := Open(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return db, l, opts
}

// settle waits until every entry appended so far is in the database file
// (journal.go), for tests that read the file directly.
func settle(t testing.TB, l *Ledger) {
	t.Helper()
	if err := l.barrier(t.Context()); err != nil {
		t.Fatalf("waiting for the journal's applier: %v", err)
	}
}

// sample returns a realistic entry numbered i for patient.
func sample(i int, patient string) Entry {
	return Entry{
		Time:        t0.Add(time.Duration(i) * time.Minute),
		RequestID:   fmt.Sprintf("req-%03d", i),
		Caller:      Party{Subject: "Practitioner/dr1", Org: "Organization/x", Client: "ehr-app"},
		Purposes:    []string{"TREAT"},
		Patient:     patient,
		Interaction: "search",
		Query:       "/Condition?patient=" + patient,
		Disclosed: []Item{{Type: "Condition", ID: fmt.Sprintf("c%d", i), Version: "1",
			Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N"}}},
		Withheld:       []Item{{Type: "Condition", ID: "sud1", Version: "2", Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"}}},
		Consents:       []ConsentRef{{ID: "part2", Version: "3"}},
		PolicyRevision: "rev-1",
	}
}

// appendSamples appends entries 1..n, alternating two patients.
func appendSamples(t testing.TB, l *Ledger, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		patient := "Patient/a"
		if i%2 == 0 {
			patient = "Patient/b"
		}
		if err := l.Append(t.Context(), sample(i, patient)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	settle(t, l)
}

// seqs returns the Seq of each entry.
func seqs(entries []Entry) []uint64 {
	out := make([]uint64, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}
