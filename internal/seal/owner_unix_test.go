//go:build unix

package seal

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReplacedKeyFileKeepsItsOwner: `ds4p keys add` run as root on the
// service user's key file leaves it the service user's. Owned by root
// (mode 0600), it would lock serve out of its keys at the next look and
// the next start. Giving a file another owner needs root: CI runs as root.
func TestReplacedKeyFileKeepsItsOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("giving the key file another owner needs root")
	}
	path := filepath.Join(t.TempDir(), "storage.key")
	a, b := newKey(t, true), newKey(t, false)
	if err := WriteKeyFile(path, []Key{a}, false); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 4242, 4343 // the service user's, say
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, []Key{a, b}, true); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	if s.Uid != uid || s.Gid != gid || st.Mode().Perm() != 0o600 {
		t.Fatalf("replaced key file: owner %d:%d mode %v; want %d:%d 0600", s.Uid, s.Gid, st.Mode().Perm(), uid, gid)
	}
}
