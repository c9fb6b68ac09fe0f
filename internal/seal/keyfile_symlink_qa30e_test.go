//go:build unix

package seal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReplacedKeyFileThroughALinkQA30E: a key file kept elsewhere (an
// encrypted volume, a secrets mount the backups cover) and named in the
// configuration by a link (/etc/ds4p/storage.key -> /secure/storage.key)
// is rotated where it is: `ds4p keys add` renamed the new file over the
// link, so the new key lived only beside the link, the file the backups
// hold kept the old keys alone, and data sealed under the new key could
// not be read from a restore. The link stays, and its target holds the
// new keys.
func TestReplacedKeyFileThroughALinkQA30E(t *testing.T) {
	t.Parallel()
	secure, etc := t.TempDir(), t.TempDir()
	target := filepath.Join(secure, "storage.key")
	link := filepath.Join(etc, "storage.key")
	a, b := newKey(t, true), newKey(t, false)
	if err := WriteKeyFile(target, []Key{a}, false); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(link, []Key{a, b}, true); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a link: %v %v", link, st.Mode(), err)
	}
	kr, err := LoadKeyFile(target)
	if err != nil || !kr.Has(b.ID) {
		t.Fatalf("the link's target after the rotation: has the new key %v (%v)", err == nil && kr.Has(b.ID), err)
	}
}
