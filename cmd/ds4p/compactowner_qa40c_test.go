//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestKeysCompactKeepsTheOwnerQA40C (QA round 40, area C): `ds4p keys
// compact` replaces ds4p.db with a copy it makes, and that copy was the
// running user's: after `sudo ds4p keys compact --data /var/lib/ds4p`
// (README, "Existing plaintext data"; the deploy kit's ds4p.db belongs to
// the service user), the database was root's, mode 0600, and serve, as
// ds4p, stopped at start with "open .../ds4p.db: permission denied".
// `ds4p keys add` run as root keeps the key file's owner for this reason;
// compact now keeps the database's.
func TestKeysCompactKeepsTheOwnerQA40C(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the database another owner")
	}
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 64123, 64124 // the service user's
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI("keys", "compact", "--data", dir); code != 0 || !strings.Contains(out, "compacted") {
		t.Fatalf("keys compact = %d %s %s", code, out, errOut)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	if s.Uid != uid || s.Gid != gid {
		t.Errorf("compacted ds4p.db is owned by %d:%d, want the service user's %d:%d", s.Uid, s.Gid, uid, gid)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("compacted ds4p.db has mode %#o, want 0600", st.Mode().Perm())
	}
}
