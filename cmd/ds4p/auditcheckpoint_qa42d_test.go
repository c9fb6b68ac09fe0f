package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// TestAuthenticateCheckpointTakesTheExportsFileQA42D (QA round 42, area
// D): an encrypted ledger's checkpoint without a MAC (an older ds4p's)
// whose export name and SHA-256 someone without the key changed. ds4p
// audit checkpoint --authenticate compared its seq and hash (and, since
// ba964a5, its time) with the exports and MACed the stored name and digest,
// so verify printed "into ledger-9-9.ndjson ...; checkpoint authenticated"
// and the accounting's pruned note named that file as where the pruned
// disclosures are. What it authenticates is the export that holds the
// checkpoint's entry, by name and SHA-256.
func TestAuthenticateCheckpointTakesTheExportsFileQA42D(t *testing.T) {
	t.Parallel()
	dir := sealedLedgerDir(t, 10, 4) // entries 1-4 eight years old
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(exports, "ledger-*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("exports = %v, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	wantName, wantSum := filepath.Base(files[0]), hex.EncodeToString(sum[:])
	const fakeName, fakeSum = "ledger-00000000000000000009-00000000000000000009.ndjson", "0000000000000000000000000000000000000000000000000000000000000000"
	ledgerMeta(t, dir, func(v1 *bbolt.Bucket) {
		meta := v1.Bucket([]byte("meta"))
		var cp audit.Checkpoint
		if err := json.Unmarshal(meta.Get([]byte("checkpoint")), &cp); err != nil {
			t.Fatal(err)
		}
		cp.Export, cp.ExportSHA256 = fakeName, fakeSum
		v, _ := json.Marshal(cp)
		_ = meta.Put([]byte("checkpoint"), v)
		_ = meta.Delete([]byte("checkpoint_mac")) // as an older ds4p wrote it
	})
	if code, out, errOut := runCLI("audit", "checkpoint", "--data", dir, "--authenticate", "--exports", exports); code != 0 || !strings.Contains(out, "ok: checkpoint authenticated") {
		t.Fatalf("checkpoint --authenticate = %d %q %q", code, out, errOut)
	}
	code, out, errOut := runCLI("audit", "checkpoint", "--data", dir)
	if code != 0 || !strings.Contains(out, "into "+wantName+" (sha256 "+wantSum+"); authenticated") {
		t.Errorf("checkpoint after authenticating = %d %q %q; want it authenticated naming %s (sha256 %s), the export that holds seq 4", code, out, errOut, wantName, wantSum)
	}
	if strings.Contains(out, fakeName) || strings.Contains(out, fakeSum) {
		t.Errorf("checkpoint after authenticating = %q: the altered export name or digest was authenticated", out)
	}
}
