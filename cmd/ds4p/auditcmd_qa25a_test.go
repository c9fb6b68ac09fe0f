package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// appendTo appends n recent entries for Patient/p1 to dir's ledger.
func appendTo(t *testing.T, dir string, n int) {
	t.Helper()
	withLedger(t, dir, func(l *audit.Ledger) { // auditcmd_test.go
		for range n {
			e := audit.Entry{Caller: audit.Party{Subject: "Practitioner/dr"}, Patient: "Patient/p1", Interaction: "read",
				Disclosed: []audit.Item{{Type: "Observation", ID: "later", Version: "1"}}}
			if err := l.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// forgePrune does what someone able to write a plaintext ds4p.db can:
// delete entries 1..through with their index keys and write a prune
// checkpoint naming the hash of entry through (which verify printed as
// the head, and the SIEM stream carries), dated long ago. No export is
// written.
func forgePrune(t *testing.T, dir string, through uint64, hash string) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		schema := tx.Bucket([]byte("audit")).Bucket([]byte("v1"))
		for _, name := range []string{"entries", "by_time", "by_patient", "by_recipient", "by_purpose", "by_break_glass"} {
			b := schema.Bucket([]byte(name))
			var doomed [][]byte
			_ = b.ForEach(func(k, _ []byte) error {
				if binary.BigEndian.Uint64(k[len(k)-8:]) <= through {
					doomed = append(doomed, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range doomed {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		cp, _ := json.Marshal(audit.Checkpoint{Seq: through, Hash: hash, Time: time.Now().Add(-7 * audit.Year).UTC(),
			PrunedAt: time.Now().UTC(), Export: "ledger-made-up.ndjson"})
		return schema.Bucket([]byte("meta")).Put([]byte("checkpoint"), cp)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditVerifyHeadAtForgedCheckpoint: in a plaintext ledger nothing
// authenticates the prune checkpoint, and verify says that only the
// exports or a head recorded off the host show a forged one. A head
// recorded at seq N, then entries 1..N deleted and a checkpoint written
// with N's hash (both known from verify's own output or the SIEM stream):
// verify --head N:HASH answered "the chain still holds the recorded
// entry", taking the hash from the forged checkpoint itself. It must
// fail unless the exports (--exports) show entry N.
func TestAuditVerifyHeadAtForgedCheckpoint(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 4, 0)
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	_, head, found := strings.Cut(out, "head: ")
	head, _, _ = strings.Cut(head, " ")
	seqText, hash, _ := strings.Cut(head, ":")
	if code != 0 || !found || seqText != "4" {
		t.Fatalf("verify = %d %q %q", code, out, errOut)
	}
	appendTo(t, dir, 3)
	forgePrune(t, dir, 4, hash)
	code, out, errOut = runCLI("audit", "verify", "--data", dir, "--head", head)
	if code != 1 || strings.Contains(out, "still holds the recorded entry") || !strings.Contains(errOut, "--exports") {
		t.Errorf("verify --head %s after entries 1-4 were deleted behind a forged plaintext checkpoint = %d\nstdout %s\nstderr %s\nwant exit 1, asking for the exports", head, code, out, errOut)
	}
	// Exports that do not chain from genesis to it are no proof either.
	empty := t.TempDir()
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--exports", empty, "--head", head); code != 1 || strings.Contains(out, "still holds the recorded entry") {
		t.Errorf("verify --exports (none) --head = %d %q %q, want 1", code, out, errOut)
	}
}

// TestAuditVerifyHeadAtRealCheckpoint: a head recorded at the entry a
// real prune ended with is checked in the exports, and passes with them.
func TestAuditVerifyHeadAtRealCheckpoint(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 4, 4) // four entries, eight years old
	_, out, _ := runCLI("audit", "verify", "--data", dir)
	_, head, _ := strings.Cut(out, "head: ")
	head, _, _ = strings.Cut(head, " ")
	appendTo(t, dir, 3)
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 || !strings.Contains(out, "checkpoint seq 4") {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--exports", exports, "--head", head); code != 0 || !strings.Contains(out, "still holds the recorded entry 4") {
		t.Errorf("verify --exports --head %s at a real checkpoint = %d %q %q", head, code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "verify", "--data", dir, "--head", head); code != 1 || !strings.Contains(errOut, "--exports") {
		t.Errorf("verify --head %s at a plaintext checkpoint without exports = %d %q, want 1 asking for them", head, code, errOut)
	}
}

// TestAuditVerifyRemovedLedgerBesideItsJournal: the ledger's buckets
// deleted from ds4p.db (the consents and keys stay), its journal left in
// place. verify answered "ok: 0 entries verified" (exit 0, with the
// warning an empty new ledger gets), although the journal holds the
// entries the file lost: an open creates the ledger before its first
// append is journaled, so no crash leaves a journal with entries beside
// a database with no ledger.
func TestAuditVerifyRemovedLedgerBesideItsJournal(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 5, 0)
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("audit")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	if code != 1 || strings.Contains(out, "ok:") || !strings.Contains(errOut, "seq 1 to 5") {
		t.Errorf("verify of a database whose ledger was removed, beside a journal of entries 1-5 = %d\nstdout %s\nstderr %s\nwant exit 1 naming the journaled entries", code, out, errOut)
	}
	// Without the journal too, a head recorded off the host still shows it.
	head := "5:" + strings.Repeat("a", 64)
	if err := os.Remove(audit.JournalPath(filepath.Join(dir, DBFile))); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--head", head); code != 1 || strings.Contains(out, "ok:") || !strings.Contains(errOut, "recorded entry 5") {
		t.Errorf("verify --head of a database whose ledger and journal were removed = %d\nstdout %s\nstderr %s\nwant exit 1", code, out, errOut)
	}
	// A data directory that never held a ledger still verifies, with the warning.
	fresh := t.TempDir()
	db, err = bbolt.Open(filepath.Join(fresh, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if code, out, errOut := runCLI("audit", "verify", "--data", fresh); code != 0 || !strings.Contains(out, "ok: 0 entries verified") {
		t.Errorf("verify of a database without a ledger or journal = %d %q %q", code, out, errOut)
	}
}

// TestAuditToAtTheZeroTime: --to 0001-01-01 is Go's zero time, which the
// ledger reads as no bound: query printed every entry and report the
// patient's whole accounting, where nothing could match.
func TestAuditToAtTheZeroTime(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 3, 0)
	for _, cmd := range [][]string{{"query"}, {"report", "--patient", "p1"}, {"export", "--out", "-"}} {
		args := append(append([]string{"audit"}, cmd...), "--data", dir, "--to", "0001-01-01")
		if code, out, errOut := runCLI(args...); code != 2 || strings.Contains(out, "Patient/p1") {
			t.Errorf("%v = %d %q %q, want a usage error", args, code, out, errOut)
		}
	}
}
