package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// TestAuthenticateCheckpointTakesTheExportsTime (QA round 41, area C): an
// encrypted ledger's checkpoint without a MAC (an older ds4p's) whose time
// someone without the key set back two years. ds4p audit checkpoint
// --authenticate compared only its seq and hash with the exports and MACed
// the stored time, so a report (and GET /admin/audit/accounting) from a
// date between the two warned of no pruned entries while four pruned
// disclosures were missing from it. The time it authenticates is the
// exports'.
func TestAuthenticateCheckpointTakesTheExportsTime(t *testing.T) {
	t.Parallel()
	dir := sealedLedgerDir(t, 10, 4) // entries 1-4 eight years old
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	ledgerMeta(t, dir, func(v1 *bbolt.Bucket) {
		meta := v1.Bucket([]byte("meta"))
		var cp audit.Checkpoint
		if err := json.Unmarshal(meta.Get([]byte("checkpoint")), &cp); err != nil {
			t.Fatal(err)
		}
		cp.Time = cp.Time.Add(-2 * audit.Year)
		v, _ := json.Marshal(cp)
		_ = meta.Put([]byte("checkpoint"), v)
		_ = meta.Delete([]byte("checkpoint_mac")) // as an older ds4p wrote it
	})
	if code, out, errOut := runCLI("audit", "checkpoint", "--data", dir, "--authenticate", "--exports", exports); code != 0 || !strings.Contains(out, "ok: checkpoint authenticated") {
		t.Fatalf("checkpoint --authenticate = %d %q %q", code, out, errOut)
	}
	from := time.Now().UTC().Add(-9 * audit.Year).Format(time.DateOnly) // after the set-back time, before the pruned entries
	code, out, errOut := runCLI("audit", "report", "--data", dir, "--patient", "Patient/p1", "--from", from)
	if code != 0 || !strings.Contains(errOut, "were pruned into the export files") {
		t.Errorf("report --from %s after authenticating = %d, %d bytes, %q; want the pruned warning (entries 1-4 are in the exports, not the report)", from, code, len(out), errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "checkpoint authenticated") {
		t.Errorf("verify after authenticating = %d %q %q", code, out, errOut)
	}
}
