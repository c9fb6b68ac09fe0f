package seal

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// KeySize is the length of a storage key: AES-256.
const KeySize = 32

// Key is one storage key of a Keyring.
type Key struct {
	// ID names the key in every value it seals.
	ID uint32
	// Secret is the key material.
	Secret [KeySize]byte
	// Active marks the key that seals new values.
	Active bool
}

// FormatID writes a key id as 8 hex digits, as key files and errors do.
func FormatID(id uint32) string { return fmt.Sprintf("%08x", id) }

// Keyring is the set of keys a store may be sealed with: one seals, all
// open. It is immutable.
type Keyring struct {
	keys   []Key
	aeads  map[uint32]cipher.AEAD
	active uint32
}

// NewKeyring checks keys (distinct ids, exactly one active) and returns
// their ring.
func NewKeyring(keys []Key) (*Keyring, error) {
	r := &Keyring{keys: slices.Clone(keys), aeads: make(map[uint32]cipher.AEAD, len(keys))}
	actives := 0
	for _, k := range keys {
		if _, dup := r.aeads[k.ID]; dup {
			return nil, fmt.Errorf("seal: key id %s appears twice", FormatID(k.ID))
		}
		aead, err := newAEAD(k.Secret)
		if err != nil {
			return nil, err
		}
		r.aeads[k.ID] = aead
		if k.Active {
			r.active, actives = k.ID, actives+1
		}
	}
	switch {
	case len(keys) == 0:
		return nil, errors.New("seal: the keyring holds no key")
	case actives != 1:
		return nil, fmt.Errorf("seal: the keyring must mark exactly one key active, not %d", actives)
	}
	return r, nil
}

// newAEAD is AES-256-GCM under a key derived from secret with HKDF, so the
// key file's bytes are used for nothing but this.
func newAEAD(secret [KeySize]byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, secret[:], nil, "ds4p seal aes-256-gcm v1", KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Active returns the id of the key that seals new values.
func (r *Keyring) Active() uint32 { return r.active }

// IDs returns every key id, in the order of the key file.
func (r *Keyring) IDs() []uint32 {
	ids := make([]uint32, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.ID
	}
	return ids
}

// Has reports whether the ring holds key id.
func (r *Keyring) Has(id uint32) bool { _, ok := r.aeads[id]; return ok }

// describe lists the ring's ids for errors, the active one marked.
func (r *Keyring) describe() string {
	var parts []string
	for _, k := range r.keys {
		s := FormatID(k.ID)
		if k.Active {
			s += " (active)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// A key file holds one key a line: the id (8 hex digits), the key (32 bytes
// in standard base64) and, on exactly one line, the word "active". Blank
// lines and lines starting with # are ignored:
//
//	# ds4p storage keys
//	3f2a9c01 q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=
//	77b0e412 Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE= active

// ParseKeyring reads the key file format.
func ParseKeyring(text []byte) (*Keyring, error) {
	var keys []Key
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("seal: key file line %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	return NewKeyring(keys)
}

// parseKeyLine reads "ID BASE64 [active]".
func parseKeyLine(line string) (Key, error) {
	f := strings.Fields(line)
	if len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "active") {
		return Key{}, errors.New(`want "ID BASE64-KEY [active]"`)
	}
	id, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil || len(f[0]) != 8 {
		// Not quoted: a line missing its id, or with its fields swapped,
		// has the secret here, and the error reaches serve's log (a key
		// file edited while it runs) and the terminal (QA round 38, area F).
		return Key{}, fmt.Errorf("the key id (the first field) is not 8 hex digits (it has %d characters)", len(f[0]))
	}
	k := Key{ID: uint32(id), Active: len(f) == 3}
	secret, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || len(secret) != KeySize {
		return Key{}, fmt.Errorf("key %s is not %d bytes of base64", f[0], KeySize)
	}
	copy(k.Secret[:], secret)
	return k, nil
}

// Format writes keys in the key file format.
func Format(keys []Key) []byte {
	var b bytes.Buffer
	b.WriteString("# ds4p storage keys: ID BASE64-KEY [active] (mode 0600, backed up apart from the data)\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s", FormatID(k.ID), base64.StdEncoding.EncodeToString(k.Secret[:]))
		if k.Active {
			b.WriteString(" active")
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Keys returns a copy of the ring's keys, for writing a key file.
func (r *Keyring) Keys() []Key { return slices.Clone(r.keys) }

// GenerateKey returns a random key with a random id not in taken.
func GenerateKey(taken ...uint32) (Key, error) {
	var k Key
	if _, err := rand.Read(k.Secret[:]); err != nil {
		return k, err
	}
	for {
		var id [4]byte
		if _, err := rand.Read(id[:]); err != nil {
			return k, err
		}
		if k.ID = binary.BigEndian.Uint32(id[:]); k.ID != 0 && !slices.Contains(taken, k.ID) {
			return k, nil
		}
	}
}

// LoadKeyFile reads a key file, refusing one that others than its owner
// may read or write (the mode must be 0600 or 0400).
func LoadKeyFile(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("seal: reading the key file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s has mode %#o: others may read it; chmod 600 it", path, perm)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: reading the key file: %w", err)
	}
	r, err := ParseKeyring(text)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return r, nil
}

// WriteKeyFile writes keys to path (mode 0600), which must not exist, or
// replaces it when replace is set, durably: a temporary file, fsynced, then
// renamed. A replaced file keeps its owner and group where this process
// may give them (run as root, `ds4p keys add` on the service user's file).
func WriteKeyFile(path string, keys []Key, replace bool) error {
	if !replace {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("seal: %s exists: %w", path, fs.ErrExist)
		}
	}
	if replace {
		// A link (storage.key -> a secrets volume) is rotated where it
		// points: renamed over, the link would become a file of its own
		// and the file the backups hold would keep the old keys alone.
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
	}
	// A new name of its own (O_EXCL, mode 0600): a fixed one planted as a
	// link by whoever may write the directory would have the keys written
	// into, and the owner given to, the file it names.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("seal: writing the key file: %w", err)
	}
	tmp := f.Name()
	if replace {
		KeepOwner(f, path)
	}
	_, err = f.Write(Format(keys))
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("seal: writing the key file: %w", err)
	}
	if !replace {
		if err := os.Link(tmp, path); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("seal: writing the key file: %w", err)
		}
		return os.Remove(tmp)
	}
	return os.Rename(tmp, path)
}

// KeyringFromEnv reads DS4P_STORAGE_KEY's value: either the key file format
// (lines separated by newlines or ";") or one bare base64 key, whose id is
// then derived from the key itself (the first 4 bytes of its SHA-256).
func KeyringFromEnv(v string) (*Keyring, error) {
	v = strings.TrimSpace(v)
	if !strings.ContainsAny(v, " \t\n;") {
		secret, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(secret) != KeySize {
			return nil, fmt.Errorf("seal: DS4P_STORAGE_KEY is not %d bytes of base64 nor key file lines", KeySize)
		}
		k := Key{Active: true}
		copy(k.Secret[:], secret)
		sum := sha256.Sum256(append([]byte("ds4p key id\x00"), secret...))
		k.ID = binary.BigEndian.Uint32(sum[:4])
		return NewKeyring([]Key{k})
	}
	r, err := ParseKeyring([]byte(strings.ReplaceAll(v, ";", "\n")))
	if err != nil {
		return nil, fmt.Errorf("%w (in DS4P_STORAGE_KEY)", err)
	}
	return r, nil
}
