package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeReportsSIEMFileAtOnceQA40C (QA round 40, area C, on b4ec07c):
// siem.file was opened only once the data directory, the database, its
// journal and the storage key were made, after the start-up files were
// read: a siem.file in a directory that does not exist (or a read-only
// one: under the unit's ProtectSystem=strict, anything outside
// /var/lib/ds4p) was reported only once every other problem was fixed,
// and left a new store behind. It is checked with the other files now,
// making nothing; an existing file is only opened for appending.
func TestServeReportsSIEMFileAtOnceQA40C(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "siem.ndjson")
	if err := os.WriteFile(existing, []byte("{\"stream\":\"ledger\",\"seq\":1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file, extra string
		want              []string
	}{
		{"missing directory", filepath.Join(dir, "nodir", "siem.ndjson"),
			"tls:\n  cert_file: " + filepath.Join(dir, "missing-cert.pem") + "\n  key_file: " + filepath.Join(dir, "missing-key.pem") + "\n",
			[]string{"siem.file: cannot create " + filepath.Join(dir, "nodir", "siem.ndjson") + ": no such file or directory", "missing-cert.pem"}},
		{"alone", filepath.Join(dir, "nodir", "siem.ndjson"), "",
			[]string{"siem.file: cannot create"}},
		{"directory", dir, "", []string{"siem.file: " + dir + " is a directory"}},
		{"existing file", existing, "log_level: loud\n", []string{"log_level"}},
	} {
		data := filepath.Join(dir, "data-"+strings.ReplaceAll(c.name, " ", "-"))
		cfg := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		body := "upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\nauth:\n  dev: true\ndata_dir: " + data +
			"\nsiem:\n  file: " + c.file + "\n" + c.extra
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1", c.name, code)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr does not say %q:\n%s", c.name, w, stderr.String())
			}
		}
		if c.name == "existing file" && strings.Contains(stderr.String(), "siem.file") {
			t.Errorf("%s: a writable siem.file reported:\n%s", c.name, stderr.String())
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made: %v", c.name, err)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "{\"stream\":\"ledger\",\"seq\":1}\n" {
		t.Errorf("the existing siem.file changed: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("probe files left behind: %v", left)
	}
}
