package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSIEMHashKeyFile (QA17): siem.key is made whole or not at all (a
// temporary file, fsynced, linked, the directory fsynced: no .tmp is left)
// with mode 0600, read back the same on the next start; and, like the
// storage key file, a key file that its group or others may read is
// refused, the default one or a configured one.
func TestSIEMHashKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{DataDir: dir}
	key, err := siemHashKey(cfg)
	if err != nil || len(key) != 32 {
		t.Fatalf("first start: %d bytes, %v", len(key), err)
	}
	path := filepath.Join(dir, SIEMKeyFile)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("siem.key: %v, %v; want mode 0600", st, err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
	if again, err := siemHashKey(cfg); err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second start: %v; want the same key", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := siemHashKey(cfg); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable siem.key: %v; want it refused", err)
	}
	other := filepath.Join(t.TempDir(), "hash.key")
	if err := os.WriteFile(other, bytes.Repeat([]byte{7}, 32), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := siemHashKey(Config{DataDir: dir, SIEM: SIEMConfig{HashKeyFile: other}}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a group-readable hash_key_file: %v; want it refused", err)
	}
	// A short key left by an older release's crash names its remedy.
	short := t.TempDir()
	if err := os.WriteFile(filepath.Join(short, SIEMKeyFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := siemHashKey(Config{DataDir: short}); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("an empty siem.key: %v", err)
	}
}
