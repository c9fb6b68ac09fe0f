package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestCutShortDatabaseQA40C (QA round 40, areas C and G): a ds4p.db cut
// short (a cp taken while serve wrote it, a restore onto a disk that
// filled) made `ds4p audit verify` die with SIGBUS (fatal error: fault,
// exit 2; no recover catches it, where 9037356 promises exit 1 for a
// damaged file), `ds4p consent list` and serve panic in bbolt with a stack
// trace. One cut to nothing (the copy failed at its first write) was no
// database to bbolt, which made a new one in it: consent list answered an
// empty list (exit 0) and serve started on an empty store, writing over
// the evidence. Each now says the file is cut short and to restore it,
// exit 1, and writes nothing. Without the fix this test's binary dies of
// the SIGBUS.
func TestCutShortDatabaseQA40C(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		size func(int64) int64
	}{
		{"a third", func(n int64) int64 { return n / 3 }},
		{"empty", func(int64) int64 { return 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			withLedger(t, dir, func(l *audit.Ledger) {
				for i := range 300 {
					e := audit.Entry{RequestID: fmt.Sprintf("r%d", i), Patient: "Patient/p1", Interaction: "read",
						Query:     "Observation?patient=p1&note=" + strings.Repeat("x", 900),
						Disclosed: []audit.Item{{Type: "Observation", ID: fmt.Sprintf("o%d", i), Version: "1"}}}
					if err := l.Append(t.Context(), e); err != nil {
						t.Fatal(err)
					}
				}
			})
			path := filepath.Join(dir, DBFile)
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, c.size(st.Size())); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			for _, args := range [][]string{
				{"audit", "verify", "--data", dir},
				{"audit", "query", "--data", dir},
				{"consent", "list", "--data", dir},
				{"keys", "status", "--data", dir},
				{"keys", "compact", "--data", dir},
			} {
				code, _, errOut := runCLI(args...)
				if code != 1 || !strings.Contains(errOut, "cut short") || !strings.Contains(errOut, "restore") {
					t.Errorf("%v: exit %d, stderr %q; want exit 1 saying the file is cut short", args, code, errOut)
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
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the cut-short file was changed")
			}
		})
	}
}
