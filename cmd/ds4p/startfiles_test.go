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

// TestServeReportsPolicyAndSIEMKeysAtOnce: policy.bundle_public_key was
// only stat'ed with the settings and parsed once the data directory was
// made, and siem.hash_key_file read only then too, so a start with a
// public key file that holds no key, or a hash key file that is missing,
// made the data directory and stopped one problem at a time. Both are read
// with the other files now: one run names both, and nothing is made.
func TestServeReportsPolicyAndSIEMKeysAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "c.yaml")
	body := "upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\ndata_dir: " + data + "\n" +
		"policy:\n  bundle_url: https://bundles.example/ds4p.tar.gz\n  bundle_public_key: " + notPEM + "\n" +
		"siem:\n  file: " + filepath.Join(dir, "siem.jsonl") + "\n  patient_ids: hash\n  hash_key_file: " + filepath.Join(dir, "missing-siem.key") + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // a serve past its checks stops at once
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"policy.bundle_public_key", "no PEM public key", "siem.hash_key_file", "missing-siem.key"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not name %s:\n%s", w, stderr.String())
		}
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data directory was made: %v", err)
	}
}
