package main

import (
	"bytes"
	"os"
	"path/filepath"
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
