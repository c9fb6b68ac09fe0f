package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPagingKeyMadeOnceAndKept(t *testing.T) {
	t.Parallel()
	cfg := Config{DataDir: t.TempDir()}
	k1, err := pagingKey(cfg)
	if err != nil || len(k1) != 32 {
		t.Fatalf("first start: %d bytes, %v", len(k1), err)
	}
	st, err := os.Stat(filepath.Join(cfg.DataDir, PagingKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	k2, err := pagingKey(cfg)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("the key changed across starts: page links would not survive a restart")
	}
}

func TestPagingKeyFromFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("too short"), 0o600)
	if _, err := pagingKey(Config{DataDir: dir, Enforcement: Enforcement{PagingKeyFile: short}}); err == nil {
		t.Fatal("a 9-byte key was accepted")
	}
	if _, err := pagingKey(Config{DataDir: dir, Enforcement: Enforcement{PagingKeyFile: filepath.Join(dir, "missing")}}); err == nil {
		t.Fatal("a missing key file was accepted")
	}
}

func TestEnforcementRequestOptions(t *testing.T) {
	t.Parallel()
	c := defaultConfig()
	c.Upstream = "http://ehr/fhir"
	c.Enforcement.PagingTTL = 2 * time.Minute
	c.Enforcement.AllowHas = true
	o, err := c.proxyOptions()
	if err != nil || o.Requests.PagingTTL != 2*time.Minute || !o.Requests.AllowHas || o.Requests.AllowChains || o.Requests.AllowExport || o.Requests.AllowSummaryCount {
		t.Fatalf("%+v %v", o.Requests, err)
	}
	if err := c.applyEnv([]string{"DS4P_PAGING_TTL=30s"}); err != nil || c.Enforcement.PagingTTL != 30*time.Second {
		t.Fatalf("DS4P_PAGING_TTL: %v %v", c.Enforcement.PagingTTL, err)
	}
}

// TestPagingKeyReadableByOthersRefused: a paging key others may read is
// refused at start, as the SIEM hash key is: whoever reads it can open
// every page link's sealed query (which can name a patient) and mint links
// (QA round 19).
func TestPagingKeyReadableByOthersRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "paging.key")
	if err := os.WriteFile(path, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := pagingKey(Config{DataDir: dir, Enforcement: Enforcement{PagingKeyFile: path}})
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a 0644 key: %v, want a refusal", err)
	}
	if _, err := pagingKey(Config{DataDir: dir}); err == nil { // the made one, loosened
		t.Fatal("a 0644 paging.key in the data directory was accepted")
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := pagingKey(Config{DataDir: dir, Enforcement: Enforcement{PagingKeyFile: path}}); err != nil {
		t.Fatalf("a 0400 key: %v", err)
	}
}
