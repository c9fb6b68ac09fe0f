package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditOutNeverReplacesTheLedger: `ds4p audit export|report --out`
// naming the database (or any file of the data directory) is refused and
// the ledger still verifies; before, the export truncated ds4p.db under
// the open ledger (SIGBUS, and no ledger left).
func TestAuditOutNeverReplacesTheLedger(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 6, 0)
	db := filepath.Join(dir, DBFile)
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "export", "--data", dir, "--out", db},
		{"audit", "report", "--data", dir, "--patient", "p1", "--out", db},
		{"audit", "report", "--data", dir, "--patient", "p1", "--out", filepath.Join(dir, "report.csv")},
	} {
		code, _, errOut := runCLI(args...)
		if code != 2 || !strings.Contains(errOut, "data directory") {
			t.Errorf("%v = %d %q, want exit 2 naming the data directory", args[1:3], code, errOut)
		}
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Errorf("ds4p.db changed: %d bytes, was %d", len(after), len(before))
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "6 entries verified") {
		t.Errorf("verify after the refused writes = %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.csv")); err == nil {
		t.Error("report.csv was written into the data directory")
	}
}

// TestAuditOutKeepsAPruneExport: --out naming an existing prune export
// (which may be the only copy of its entries) is refused.
func TestAuditOutKeepsAPruneExport(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 2, 0)
	exp := filepath.Join(t.TempDir(), "ledger-00000000000000000001-00000000000000000009.ndjson")
	if err := os.WriteFile(exp, []byte("{\"seq\":1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI("audit", "export", "--data", dir, "--out", exp)
	if b, _ := os.ReadFile(exp); code != 2 || string(b) != "{\"seq\":1}\n" || !strings.Contains(errOut, "prune export") {
		t.Errorf("export over a prune export = %d %q; file now %q", code, errOut, b)
	}
}

// TestAuditFailedExportKeepsTheFile: an export that fails leaves the file
// --out names as it was, instead of truncated or half written.
func TestAuditFailedExportKeepsTheFile(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 3, 0)
	out := filepath.Join(t.TempDir(), "all.ndjson")
	if err := os.WriteFile(out, []byte("yesterday's export\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the export fails at its first read
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"audit", "export", "--data", dir, "--out", out}, &stdout, &stderr)
	if b, _ := os.ReadFile(out); code != 1 || string(b) != "yesterday's export\n" {
		t.Errorf("failed export = %d %q; the file now holds %q", code, stderr.String(), b)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// and a good one replaces it
	if code, _, errOut := runCLI("audit", "export", "--data", dir, "--out", out); code != 0 {
		t.Fatalf("export = %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != 3 {
		t.Errorf("export wrote %q", b)
	}
}

// TestAuditOutNamesTheFile: an --out that cannot be created is reported
// by the name given, not by the temporary file's.
func TestAuditOutNamesTheFile(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 1, 0)
	out := filepath.Join(t.TempDir(), "missing", "report.csv")
	code, _, errOut := runCLI("audit", "report", "--data", dir, "--patient", "p1", "--out", out)
	if code != 1 || !strings.Contains(errOut, "cannot write "+out+": no such file or directory") || strings.Contains(errOut, ".tmp") {
		t.Errorf("report --out %s = %d %q", out, code, errOut)
	}
}
