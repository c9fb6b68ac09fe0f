package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// TestEmptyDatabaseRefusedQA40G (QA round 40, helper G, on 94cc91d): a
// ds4p.db cut short to nothing (cp or a restore onto a full disk creates
// the file and fails at its first write) was no database to bbolt, which
// made a new one in it: `ds4p consent list` answered an empty list (exit
// 0) and wrote a fresh database over the evidence, audit verify and keys
// status failed with "write ...: bad file descriptor", and serve started
// on an empty store (every consent, the ledger's chain and the storage
// keys' check gone). A file of no bytes is cut short as 94cc91d refuses
// one: exit 1, nothing written.
func TestEmptyDatabaseRefusedQA40G(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e := audit.Entry{RequestID: fmt.Sprintf("r%d", i), Patient: "Patient/p1", Interaction: "read",
			Disclosed: []audit.Item{{Type: "Observation", ID: fmt.Sprintf("o%d", i), Version: "1"}}}
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"consent", "list", "--data", dir},
		{"audit", "verify", "--data", dir},
		{"keys", "status", "--data", dir},
	} {
		code, _, errOut := runCLI(args...)
		if code != 1 || !strings.Contains(errOut, "cut short") || !strings.Contains(errOut, "restore") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 saying the file is cut short", args, code, errOut)
		}
		if st, err := os.Stat(path); err != nil || st.Size() != 0 {
			t.Errorf("%v: the empty ds4p.db was written (%v, %v)", args, st.Size(), err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "ds4p.yaml")
	body := "upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\nauth:\n  dev: true\nstorage:\n  encryption: off\ndata_dir: " + dir + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "cut short") {
		t.Errorf("serve: exit %d, stderr %q; want exit 1 saying the file is cut short", code, stderr.String())
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Errorf("serve wrote the empty ds4p.db (%v, %v)", st.Size(), err)
	}
}
