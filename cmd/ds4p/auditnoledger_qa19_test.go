package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestAuditReadsWriteNoLedger: query, report and export on a database
// that holds no ledger (consents only, or the wrong --data) exit 1 saying
// so and leave the file as it was; before, they created an empty ledger in
// it and answered an empty accounting, which reads as "never disclosed".
func TestAuditReadsWriteNoLedger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("consents")); return err })
	if err != nil || db.Close() != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, args := range [][]string{
		{"audit", "report", "--data", dir, "--patient", "p1"},
		{"audit", "query", "--data", dir},
		{"audit", "export", "--data", dir, "--out", "-"},
	} {
		code, out, errOut := runCLI(args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "holds no ledger") || !strings.Contains(errOut, "--data") {
			t.Errorf("%s = %d %q %q, want exit 1 saying the database holds no ledger", args[1], code, out, errOut)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a read-only audit command wrote ds4p.db")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the data directory now holds %d files", len(entries))
	}
}

// TestAuditQueryNegativeLimit: --limit below 0 is a usage error, not
// every entry (the check was n == limit, never true).
func TestAuditQueryNegativeLimit(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 3, 0)
	if code, out, errOut := runCLI("audit", "query", "--data", dir, "--limit", "-1"); code != 2 || out != "" || !strings.Contains(errOut, "--limit") {
		t.Errorf("query --limit -1 = %d %q %q, want exit 2", code, out, errOut)
	}
}

// TestAuditQueryEmptyFilter: --patient "" (or --recipient, --purpose) is
// a usage error, not every patient's entries.
func TestAuditQueryEmptyFilter(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 3, 0)
	for _, name := range []string{"--patient", "--recipient", "--purpose"} {
		if code, out, errOut := runCLI("audit", "query", "--data", dir, name, ""); code != 2 || out != "" || !strings.Contains(errOut, name+" is empty") {
			t.Errorf("query %s '' = %d %q %q, want exit 2", name, code, out, errOut)
		}
	}
}
