package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeReportsEveryFileAtOnceQA38C (QA round 38, area C): serve read
// auth.key_file, then the TLS certificate and key, the client CA, the
// upstream CA and the storage key file, and stopped at the first that did
// not read (the paging key file only after the data directory was made), so a new user copying deploy/ds4p.yaml with several files
// missing met them one start at a time (README since 3bd5245). Every
// unreadable or invalid file is now reported in one run, beside any
// problem with the settings, and nothing is made in the data directory.
func TestServeReportsEveryFileAtOnceQA38C(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := func(name string) string { return filepath.Join(dir, "missing-"+name) }
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := fmt.Sprintf(`upstream_ca_file: %s
auth:
  key_file: %s
tls:
  cert_file: %s
  key_file: %s
  client_ca_file: %s
storage:
  key_file: %s
enforcement:
  paging_key_file: %s
`, notPEM, notPEM, missing("cert.pem"), missing("key.pem"), missing("ca.pem"), missing("storage.key"), missing("paging.key"))
	want := []string{"upstream_ca_file", "auth.key_file", "tls: loading cert_file/key_file", "missing-cert.pem", "missing-key.pem",
		"tls.client_ca_file", "storage.key_file", "enforcement.paging_key_file"}
	for _, c := range []struct {
		name, settings string
		want           []string
	}{
		{"files only", "", want},
		{"with a bad setting", "log_level: loud\n", append([]string{"log_level"}, want...)},
	} {
		data := filepath.Join(dir, "data-"+strings.ReplaceAll(c.name, " ", "-"))
		cfg := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		body := "upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\ndata_dir: " + data + "\n" + c.settings + files
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		// A context already ended: a serve that went past its checks
		// stops at once instead of serving.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1", c.name, code)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr does not name %s:\n%s", c.name, w, stderr.String())
			}
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made: %v", c.name, err)
		}
	}
}
