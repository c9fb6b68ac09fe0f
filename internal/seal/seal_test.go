package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// newKey returns a generated key, active or not.
func newKey(t testing.TB, active bool) Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k.Active = active
	return k
}

// ring builds a keyring of keys.
func ring(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// openDB opens a fresh bbolt file.
func openDB(t testing.TB) (*bbolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func TestKeyFileRoundTrip(t *testing.T) {
	t.Parallel()
	a, b := newKey(t, false), newKey(t, true)
	path := filepath.Join(t.TempDir(), "storage.key")
	if err := WriteKeyFile(path, []Key{a, b}, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, []Key{a}, false); !errors.Is(err, os.ErrExist) {
		t.Fatalf("overwriting without replace = %v, want ErrExist", err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	r, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Active() != b.ID || !r.Has(a.ID) || len(r.IDs()) != 2 {
		t.Fatalf("ring: active %x ids %x", r.Active(), r.IDs())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key file loaded: %v", err)
	}
}

func TestParseKeyringRefuses(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	short := base64.StdEncoding.EncodeToString([]byte("short"))
	cases := map[string]string{
		"no key":       "# nothing\n",
		"no active":    "0000000a " + key + "\n",
		"two active":   "0000000a " + key + " active\n0000000b " + key + " active\n",
		"duplicate id": "0000000a " + key + " active\n0000000a " + key + "\n",
		"short key":    "0000000a " + short + " active\n",
		"bad id":       "xyz " + key + " active\n",
		"extra word":   "0000000a " + key + " primary\n",
	}
	for name, text := range cases {
		if _, err := ParseKeyring([]byte(text)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestKeyringFromEnv(t *testing.T) {
	t.Parallel()
	k := newKey(t, true)
	bare := base64.StdEncoding.EncodeToString(k.Secret[:])
	r1, err := KeyringFromEnv(bare)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := KeyringFromEnv(bare + "\n")
	if r1.Active() != r2.Active() {
		t.Fatal("a bare key's id is not stable")
	}
	other := newKey(t, false)
	lines := strings.ReplaceAll(strings.TrimSpace(string(Format([]Key{k, other}))), "\n", ";")
	r3, err := KeyringFromEnv(lines)
	if err != nil || r3.Active() != k.ID || !r3.Has(other.ID) {
		t.Fatalf("key file lines in the environment: %v", err)
	}
	if _, err := KeyringFromEnv("not-base64!"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestSealOpenBindsPlace(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	s, err := Open(db, ring(t, newKey(t, true)))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"patient":"Patient/zed-12345"}`)
	v := s.Seal("a/b", []byte("k1"), plain)
	if bytes.Contains(v, []byte("zed-12345")) || len(v) != len(plain)+Overhead {
		t.Fatalf("sealed value %q", v)
	}
	got, err := s.Open("a/b", []byte("k1"), v)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for name, try := range map[string]func() error{
		"other key":    func() error { _, err := s.Open("a/b", []byte("k2"), v); return err },
		"other bucket": func() error { _, err := s.Open("a/c", []byte("k1"), v); return err },
		"flipped bit": func() error {
			w := bytes.Clone(v)
			w[len(w)-1] ^= 1
			_, err := s.Open("a/b", []byte("k1"), w)
			return err
		},
		"plaintext": func() error { _, err := s.Open("a/b", []byte("k1"), plain); return err },
	} {
		if try() == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if a, b := s.IndexKey("x", "Patient/1"), s.IndexKey("y", "Patient/1"); bytes.Equal(a, b) || len(a) != IndexKeySize {
		t.Error("index keys of two labels are equal")
	}
}

func TestOpenWrongKeyTouchesNothing(t *testing.T) {
	t.Parallel()
	db, path := openDB(t)
	right := newKey(t, true)
	if _, err := Open(db, ring(t, right)); err != nil {
		t.Fatal(err)
	}
	before := fileBytes(t, path)
	stranger := newKey(t, true)
	_, err := Open(db, ring(t, stranger))
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), FormatID(right.ID)) {
		t.Fatalf("unknown key id: %v", err)
	}
	impostor := newKey(t, true)
	impostor.ID = right.ID // another key saved under the same id
	_, err = Open(db, ring(t, impostor))
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), FormatID(right.ID)) {
		t.Fatalf("wrong key under the right id: %v", err)
	}
	if !bytes.Equal(before, fileBytes(t, path)) {
		t.Fatal("a refused open changed the file")
	}
}

// fileBytes reads a file.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRotateUnderWrites re-seals a bucket while writers add values under
// the new key, then checks every value opens with the new key alone.
func TestRotateUnderWrites(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	old, next := newKey(t, true), newKey(t, false)
	s, err := Open(db, ring(t, old))
	if err != nil {
		t.Fatal(err)
	}
	paths := []Path{{"data", "values"}, {"data", "missing"}}
	put := func(i int) error {
		return db.Update(func(tx *bbolt.Tx) error {
			root, _ := tx.CreateBucketIfNotExists([]byte("data"))
			b, _ := root.CreateBucketIfNotExists([]byte("values"))
			k := fmt.Appendf(nil, "k%05d", i)
			return b.Put(k, s.Seal("data/values", k, fmt.Appendf(nil, "value %d", i)))
		})
	}
	for i := range 300 {
		if err := put(i); err != nil {
			t.Fatal(err)
		}
	}
	next.Active, old.Active = true, false
	if err := s.SetKeyring(ring(t, next), paths); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("a ring without the old key was accepted: %v", err)
	}
	if err := s.SetKeyring(ring(t, old, next), paths); err != nil {
		t.Fatal(err)
	}
	if need, _ := s.NeedsRotation(); !need {
		t.Fatal("no rotation needed after a new active key")
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 300; i < 600; i++ {
			if err := put(i); err != nil {
				t.Error(err)
				return
			}
		}
	})
	n, err := s.Rotate(t.Context(), paths, 7)
	wg.Wait()
	if err != nil || n == 0 {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	c, err := Count(db, paths)
	if err != nil || c.ByKey[old.ID] != 0 || c.ByKey[next.ID] != 601 || c.Rotating || c.Secret != next.ID {
		t.Fatalf("after rotation: %+v, %v", c, err)
	}
	if need, _ := s.NeedsRotation(); need {
		t.Fatal("rotation still needed")
	}
	// The old key can go: the store opens and every value reads without it.
	s2, err := Open(db, ring(t, next))
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("data")).Bucket([]byte("values")).ForEach(func(k, v []byte) error {
			_, err := s2.Open("data/values", k, v)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRotateResumes checks that progress survives between calls: a
// rotation stopped after one step continues from where it was.
func TestRotateResumes(t *testing.T) {
	t.Parallel()
	db, _ := openDB(t)
	old, next := newKey(t, true), newKey(t, false)
	s, err := Open(db, ring(t, old))
	if err != nil {
		t.Fatal(err)
	}
	paths := []Path{{"v"}}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("v"))
		for i := range 50 {
			k := fmt.Appendf(nil, "%03d", i)
			if err := b.Put(k, s.Seal("v", k, k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	next.Active, old.Active = true, false
	if err := s.SetKeyring(ring(t, old, next), paths); err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { _, _, err := s.rotateStep(tx, paths, 10); return err })
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Count(db, paths)
	if !c.Rotating || c.ByKey[next.ID] != 10 || c.ByKey[old.ID] != 41 {
		t.Fatalf("after one step: %+v", c)
	}
	// A new Sealer (a restart) resumes: it re-seals only the other 40.
	s2, err := Open(db, ring(t, old, next))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s2.Rotate(t.Context(), paths, 0); err != nil || n != 40 {
		t.Fatalf("resumed Rotate = %d, %v; want 40", n, err)
	}
}
