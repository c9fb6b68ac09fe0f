package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestAuditVerifyFailedHeadSaysNoOKQA40H: verify --head on a ledger
// rewritten into another, self-consistent chain failed (exit 1, the
// error on stderr) but printed "ok: 4 entries verified (seq 1 to 4)" on
// stdout first: a script keeping stdout as the verification record kept
// "ok" (QA round 40, C's P6). A failed run says ok about nothing.
func TestAuditVerifyFailedHeadSaysNoOKQA40H(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 4, 0)
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	_, head, found := strings.Cut(out, "head: ")
	head, _, _ = strings.Cut(head, " ")
	if code != 0 || !found || !strings.HasPrefix(head, "4:") {
		t.Fatalf("verify = %d %q %q", code, out, errOut)
	}
	other := ledgerDirWith(t, 4, 0, "forged")
	for _, name := range []string{DBFile, audit.JournalPath(DBFile)} {
		if err := os.WriteFile(filepath.Join(dir, name), mustRead(t, filepath.Join(other, name)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = runCLI("audit", "verify", "--data", dir, "--head", head)
	if code != 1 || !strings.Contains(errOut, "differs") || strings.Contains(out, "ok") {
		t.Errorf("verify --head on a rewritten ledger = %d\nstdout %q\nstderr %q\nwant exit 1 and no ok on stdout", code, out, errOut)
	}
	// The rewritten chain alone still verifies, and says so.
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 4 entries verified (seq 1 to 4)") {
		t.Errorf("verify without --head = %d %q %q", code, out, errOut)
	}
}
