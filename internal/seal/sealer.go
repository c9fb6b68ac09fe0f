package seal

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// Bucket and key names of the seal root bucket; see the package doc.
var (
	rootBucket  = []byte("seal")
	secretKey   = []byte("secret")
	rotationKey = []byte("rotation")
	secretPath  = "seal"
)

// The sealed value format: magic, format version, key id, nonce, then the
// AES-256-GCM ciphertext and tag.
const (
	magic         = 0xD5
	formatVersion = 1
	nonceSize     = 12
	headerSize    = 2 + 4 + nonceSize
	tagSize       = 16
	// Overhead is how many bytes sealing adds to a value.
	Overhead = headerSize + tagSize
	// IndexKeySize is the length of an index key made by IndexKey.
	IndexKeySize = 16
)

// ErrWrongKey says the keyring cannot open the store: it lacks the key id
// the store is sealed with, or holds another key under that id.
var ErrWrongKey = errors.New("the keyring does not open this store")

// ErrNotSealed says a store opened read-only has no store secret yet: it
// was never opened read-write with encryption on.
var ErrNotSealed = errors.New("the store is not encrypted yet; open it read-write once with a key to encrypt it")

// Sealer seals and opens the values of one bbolt file with a keyring, and
// derives the index and chain keys from the file's store secret. It is safe
// for concurrent use.
type Sealer struct {
	db       *bbolt.DB
	ring     atomic.Pointer[Keyring]
	indexKey []byte
	chainKey []byte
	kick     chan struct{}
	// indexMACs pools HMACs under indexKey: Reset is far cheaper than
	// hmac.New, which hashes the key pads again.
	indexMACs sync.Pool
}

// Open checks that ring opens db's store secret and returns a Sealer. A
// database without a secret (a new or never encrypted store) gets one, made
// at random and sealed under the active key, unless db is read-only
// (ErrNotSealed). A ring that cannot open the secret fails with ErrWrongKey
// naming the key id, before anything is written.
func Open(db *bbolt.DB, ring *Keyring) (*Sealer, error) {
	s := &Sealer{db: db, kick: make(chan struct{}, 1)}
	s.ring.Store(ring)
	var secret []byte
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		secret, err = s.readSecret(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if secret == nil {
		if db.IsReadOnly() {
			return nil, fmt.Errorf("seal: %w", ErrNotSealed)
		}
		if secret, err = s.createSecret(); err != nil {
			return nil, err
		}
	}
	return s, s.derive(secret)
}

// readSecret opens the store secret; nil when there is none.
func (s *Sealer) readSecret(tx *bbolt.Tx) ([]byte, error) {
	root := tx.Bucket(rootBucket)
	if root == nil || root.Get(secretKey) == nil {
		return nil, nil
	}
	v := root.Get(secretKey)
	id, ok := KeyID(v)
	ring := s.ring.Load()
	switch {
	case !ok:
		return nil, errors.New("seal: the store secret is not a sealed value")
	case !ring.Has(id):
		return nil, fmt.Errorf("seal: the store is encrypted with key id %s, which the keyring (%s) does not hold: %w",
			FormatID(id), ring.describe(), ErrWrongKey)
	}
	secret, err := s.Open(secretPath, secretKey, v)
	if err != nil {
		return nil, fmt.Errorf("seal: key id %s of the keyring does not open the store: another key was saved under that id: %w",
			FormatID(id), ErrWrongKey)
	}
	return secret, nil
}

// createSecret makes the store secret, unless a concurrent open just did.
func (s *Sealer) createSecret() (secret []byte, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if secret, err = s.readSecret(tx); err != nil || secret != nil {
			return err
		}
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		return root.Put(secretKey, s.Seal(secretPath, secretKey, secret))
	})
	if err != nil {
		return nil, fmt.Errorf("seal: creating the store secret: %w", err)
	}
	return secret, nil
}

// derive sets the index and chain keys from the store secret.
func (s *Sealer) derive(secret []byte) error {
	var err error
	if s.indexKey, err = hkdf.Key(sha256.New, secret, nil, "ds4p index v1", 32); err != nil {
		return err
	}
	s.indexMACs.New = func() any { return hmac.New(sha256.New, s.indexKey) }
	s.chainKey, err = hkdf.Key(sha256.New, secret, nil, "ds4p ledger chain v1", 32)
	return err
}

// Encrypted reports whether the database of tx has a store secret, and the
// id of the key that seals it.
func Encrypted(tx *bbolt.Tx) (keyID uint32, ok bool) {
	root := tx.Bucket(rootBucket)
	if root == nil {
		return 0, false
	}
	return KeyID(root.Get(secretKey))
}

// EncryptedError is the error a store without a Sealer returns on a
// database that has a store secret.
func EncryptedError(pkg string, keyID uint32) error {
	return fmt.Errorf("%s: the store is encrypted (key id %s): give its key (DS4P_STORAGE_KEY, DS4P_STORAGE_KEY_FILE, storage.key_file, or storage.key in the data directory)", pkg, FormatID(keyID))
}

// Keyring returns the current keyring.
func (s *Sealer) Keyring() *Keyring { return s.ring.Load() }

// KeyID returns the key id a sealed value names; ok is false when v is not
// a sealed value.
func KeyID(v []byte) (uint32, bool) {
	if len(v) < Overhead || v[0] != magic || v[1] != formatVersion {
		return 0, false
	}
	return binary.BigEndian.Uint32(v[2:6]), true
}

// Seal encrypts plain under the active key, bound to where it is stored:
// the bucket path (e.g. "audit/v1/entries") and the key. A value moved to
// another key or bucket no longer opens.
func (s *Sealer) Seal(path string, key, plain []byte) []byte {
	ring := s.ring.Load()
	out := make([]byte, headerSize, headerSize+len(plain)+tagSize)
	out[0], out[1] = magic, formatVersion
	binary.BigEndian.PutUint32(out[2:6], ring.active)
	_, _ = rand.Read(out[6:headerSize])
	return ring.aeads[ring.active].Seal(out, out[6:headerSize], plain, aad(out[:headerSize], path, key))
}

// Open decrypts a value Seal made for path and key, with whichever key of
// the ring it names. The result is a new slice.
func (s *Sealer) Open(path string, key, v []byte) ([]byte, error) {
	id, ok := KeyID(v)
	if !ok {
		return nil, fmt.Errorf("seal: the value in %s is not sealed", path)
	}
	aead, ok := s.ring.Load().aeads[id]
	if !ok {
		return nil, fmt.Errorf("seal: the value in %s is sealed with key id %s, which the keyring does not hold: %w", path, FormatID(id), ErrWrongKey)
	}
	plain, err := aead.Open(nil, v[6:headerSize], v[headerSize:], aad(v[:headerSize], path, key))
	if err != nil {
		return nil, fmt.Errorf("seal: the value in %s does not open with key id %s: altered, moved, or another key under that id", path, FormatID(id))
	}
	return plain, nil
}

// aad binds a value to its header and place: header, path, 0x00, key.
func aad(header []byte, path string, key []byte) []byte {
	a := make([]byte, 0, len(header)+len(path)+1+len(key))
	a = append(append(a, header...), path...)
	return append(append(a, 0), key...)
}

// IndexKey returns the index key standing for value (a patient, a
// recipient) in the index named label: the first 16 bytes of
// HMAC-SHA256(index key, label 0x00 value). The index key derives from the
// store secret, so it survives key rotation.
func (s *Sealer) IndexKey(label, value string) []byte {
	m := s.indexMACs.Get().(hash.Hash)
	defer s.indexMACs.Put(m)
	m.Reset()
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	return append([]byte(nil), m.Sum(sum[:0])[:IndexKeySize]...)
}

// ChainMAC returns a new HMAC-SHA256 under the ledger's chain key, derived
// from the store secret (so it survives key rotation).
func (s *Sealer) ChainMAC() hash.Hash { return hmac.New(sha256.New, s.chainKey) }
