package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestAuditVerifyHeadNotFromUnverifiedExportQA36H (QA round 36, area H):
// verify --head SEQ:HASH looked an entry the ledger no longer holds up in
// every ledger-*.ndjson of --exports, also in the files verify had just
// set aside unverified as "starting after the checkpoint" (an unfinished
// prune's). Someone who set the ledger back to an older copy (a backup
// of ds4p.db and its journal: the newest entries gone, the chain whole)
// and left beside the exports a file of that name with one line
// {"seq":N,"hash":"<the recorded head's hash>"} (printed by verify, sent
// by the SIEM stream) got "ok: the chain still holds the recorded entry
// N", the one check the README says detects the newest entries cut off.
// An entry after the checkpoint is in the ledger or missing; only the
// exports verify checked vouch for one at or before it.
func TestAuditVerifyHeadNotFromUnverifiedExportQA36H(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 4, 3) // three entries eight years old, then one
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 || !strings.Contains(out, "checkpoint seq 3") {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	db, journal := filepath.Join(dir, DBFile), audit.JournalPath(filepath.Join(dir, DBFile))
	backupDB, backupJournal := mustRead(t, db), mustRead(t, journal)
	appendTo(t, dir, 2) // entries 5 and 6
	code, out, errOut := runCLI("audit", "verify", "--data", dir, "--exports", exports)
	_, head, _ := strings.Cut(out, "head: ")
	head, _, _ = strings.Cut(head, " ")
	_, hash, _ := strings.Cut(head, ":")
	if code != 0 || !strings.HasPrefix(head, "6:") {
		t.Fatalf("verify = %d %q %q", code, out, errOut)
	}
	// Set back to the copy holding entries 1 to 4.
	if err := os.WriteFile(db, backupDB, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, backupJournal, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--exports", exports, "--head", head); code != 1 || strings.Contains(out, "still holds the recorded entry") {
		t.Fatalf("verify --head %s of the set-back copy = %d %q %q, want 1", head, code, out, errOut)
	}
	fake := filepath.Join(exports, audit.ExportName(5, 6))
	if err := os.WriteFile(fake, []byte(fmt.Sprintf("{\"seq\":6,\"hash\":%q}\n", hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI("audit", "verify", "--data", dir, "--exports", exports, "--head", head)
	if code != 1 || strings.Contains(out, "still holds the recorded entry") || !strings.Contains(errOut, "recorded entry 6 is not in the ledger") {
		t.Errorf("verify --head %s of the set-back copy beside an unverified export holding the hash = %d\nstdout %s\nstderr %s\nwant exit 1: entry 6 is missing", head, code, out, errOut)
	}
}
