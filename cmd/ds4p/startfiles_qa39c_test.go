package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeReportsNonFilesQA39C (QA round 39, area C, on b4ec07c and
// 9e6d442): a key or certificate setting naming a directory was reported
// as the reader met it, and for storage.key_file and siem.hash_key_file
// (mode checked first) as "has mode 0755: others may read it; chmod 600
// it", which sent the operator to chmod a directory; one naming a FIFO
// (no writer) held serve in the file's open, before anything was reported
// (without the fix this test never returns: run it with -timeout). Each
// is now reported as what it is, with every other problem, and not read.
func TestServeReportsNonFilesQA39C(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := filepath.Join(dir, "keys")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	settings := []string{"upstream_ca_file", "auth.key_file", "tls: loading cert_file/key_file", "tls.client_ca_file",
		"storage.key_file", "enforcement.paging_key_file", "siem.hash_key_file"}
	for _, c := range []struct{ name, path, want string }{
		{"directory", d, "is a directory"},
		{"fifo", fifo, "is not a regular file"},
	} {
		data := filepath.Join(dir, "data-"+c.name)
		body := fmt.Sprintf(`upstream: https://ehr.example/fhir
listen: 127.0.0.1:0
data_dir: %s
upstream_ca_file: %[2]s
auth:
  key_file: %[2]s
tls:
  cert_file: %[2]s
  key_file: %[2]s
  client_ca_file: %[2]s
storage:
  key_file: %[2]s
enforcement:
  paging_key_file: %[2]s
siem:
  file: %[3]s
  patient_ids: hash
  hash_key_file: %[2]s
`, data, c.path, filepath.Join(dir, "siem-"+c.name+".ndjson"))
		cfg := filepath.Join(dir, c.name+".yaml")
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1", c.name, code)
		}
		for _, s := range settings {
			if !strings.Contains(stderr.String(), s+": "+c.path+" "+c.want) {
				t.Errorf("%s: stderr does not say %s %s %s:\n%s", c.name, s, c.path, c.want, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "chmod") {
			t.Errorf("%s: stderr sends the operator to chmod it:\n%s", c.name, stderr.String())
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made: %v", c.name, err)
		}
	}
}
