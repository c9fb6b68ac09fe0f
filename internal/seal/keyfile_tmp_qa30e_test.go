//go:build unix

package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestKeyFileWriteFollowsNoPlantedTempQA30E: WriteKeyFile writes the new
// keys to a temporary file beside the key file before renaming it over.
// That file had a fixed name (storage.key.tmp) and was opened without
// O_EXCL or O_NOFOLLOW: whoever may write the key file's directory (the
// service user, when the directory is made its own so that `sudo -u ds4p
// ds4p keys add`, as deploy/ds4p.service's comment says, works) could
// plant storage.key.tmp as a link to any file; `ds4p keys add` run as root
// then truncated that file, wrote the storage keys into it, and (550ae4c)
// gave it the key file's owner: the service user came to own, say,
// /etc/shadow, and held the keys in a second place. A planted name must
// leave its target alone (and the write still succeed, or fail).
func TestKeyFileWriteFollowsNoPlantedTempQA30E(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "storage.key")
	a, b := newKey(t, true), newKey(t, false)
	if err := WriteKeyFile(path, []Key{a}, false); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	const before = "root:x:0:0:root:/root:/bin/sh\n"
	if err := os.WriteFile(victim, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	err := WriteKeyFile(path, []Key{a, b}, true)
	got, rerr := os.ReadFile(victim)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !bytes.Equal(got, []byte(before)) {
		t.Fatalf("the file a planted %s.tmp links to was written (write error %v): now %q", filepath.Base(path), err, got)
	}
	if err == nil {
		kr, err := LoadKeyFile(path)
		if err != nil || !kr.Has(b.ID) {
			t.Fatalf("the key file after the write: %v", err)
		}
	}
}
