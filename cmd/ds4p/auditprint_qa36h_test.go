package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// TestAuditCheckpointPrintedWithoutControlsQA36H (QA round 36, area H):
// verify, checkpoint and report printed the prune checkpoint's export name,
// hash and export digest as the file stores them. In a plaintext ledger
// anyone able to write ds4p.db writes them, so an export name holding
// terminal controls ("\x1b[8m" conceals all that follows in most
// terminals, "\x1b[2J" clears the screen) reached the auditor's terminal
// raw, ahead of the "chain broken" line verify prints about the very
// same tampering. They are shown quoted when they hold anything but
// printable text.
func TestAuditCheckpointPrintedWithoutControlsQA36H(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 4, 3)
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("audit")).Bucket([]byte("v1")).Bucket([]byte("meta"))
		var cp audit.Checkpoint
		if err := json.Unmarshal(meta.Get([]byte("checkpoint")), &cp); err != nil {
			return err
		}
		cp.Export, cp.ExportSHA256 = "ledger-\x1b[8m.ndjson", "\x1b]0;ok\x07"
		v, _ := json.Marshal(cp)
		return meta.Put([]byte("checkpoint"), v)
	})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	// An export that is no prune's, named with a control, is verified
	// and named in the error.
	if err := os.WriteFile(filepath.Join(exports, "ledger-\x1b[8m.ndjson"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "verify", "--data", dir},
		{"audit", "verify", "--data", dir, "--exports", exports},
		{"audit", "checkpoint", "--data", dir},
		{"audit", "report", "--data", dir, "--patient", "Patient/p1"},
	} {
		_, out, errOut := runCLI(args...)
		if strings.ContainsAny(out+errOut, "\x1b\x07") || !strings.Contains(out+errOut, `ledger-\x1b[8m.ndjson`) {
			t.Errorf("%s printed\nstdout %q\nstderr %q\nwant the checkpoint's fields quoted, no control characters", args[1], out, errOut)
		}
	}
}
