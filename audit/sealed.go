package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// sealedSchemaVersion is the encrypted layout: sealed entry and head
// values, HMAC-keyed index keys and a keyed chain from meta keyed_from.
const sealedSchemaVersion = 3

// The ledger's sealed buckets and the head bucket's keyed_from key.
var (
	entriesPath  = seal.Path{"audit", "v1", "entries"}
	headPath     = seal.Path{"audit", "v1", "head"}
	keyedFromKey = []byte("keyed_from")
	entriesName  = entriesPath.String()
	headName     = headPath.String()
)

// SealedBuckets are the ledger's buckets whose every value is sealed in an
// encrypted ledger; key rotation (seal.Sealer.Rotate) walks them.
var SealedBuckets = []seal.Path{entriesPath, headPath}

// WithSealer encrypts the ledger with s (see the package doc): Open
// migrates a plaintext ledger to the sealed schema. Without it, Open
// refuses an encrypted ledger.
func WithSealer(s *seal.Sealer) Option {
	return func(l *Ledger) { l.codec = codec{s: s} }
}

// codec turns entries and index values into stored bytes: plaintext (s
// nil, schema 2) or sealed (schema 3).
type codec struct{ s *seal.Sealer }

// sealed reports whether the ledger is encrypted.
func (c codec) sealed() bool { return c.s != nil }

// version is the schema this codec reads and writes.
func (c codec) version() byte {
	if c.sealed() {
		return sealedSchemaVersion
	}
	return schemaVersion
}

// storeEntry returns the stored form of an entry's canonical JSON:
// compressed when large (compress.go), then sealed in an encrypted ledger.
func (c codec) storeEntry(seq uint64, plain []byte) []byte {
	v := compressEntry(plain)
	if !c.sealed() {
		return v
	}
	return c.s.Seal(entriesName, seqKey(seq), v)
}

// load returns the plaintext of value v stored under key k of path.
func (c codec) load(path string, k, v []byte) ([]byte, error) {
	if v == nil {
		return nil, errors.New("entry missing")
	}
	if !c.sealed() {
		return v, nil
	}
	return c.s.Open(path, k, v)
}

// indexPrefix is what every key of value starts with in a keyed index:
// value|0x00 in plaintext, its 16-byte HMAC when sealed.
func (c codec) indexPrefix(ix *index, value string) []byte {
	return c.appendIndexPrefix(make([]byte, 0, c.indexPrefixSize(value)+16), ix, value)
}

// appendIndexPrefix appends indexPrefix(ix, value) to dst.
func (c codec) appendIndexPrefix(dst []byte, ix *index, value string) []byte {
	if !c.sealed() {
		return append(append(dst, value...), 0)
	}
	return append(dst, c.s.IndexKey(string(ix.name), value)...)
}

// indexPrefixSize is the length of indexPrefix(_, value).
func (c codec) indexPrefixSize(value string) int {
	if !c.sealed() {
		return len(value) + 1
	}
	return seal.IndexKeySize
}

// entry reads and decodes the entry stored under seq key k.
func (b buckets) entry(k, v []byte) (Entry, []byte, error) {
	plain, err := b.c.load(entriesName, k, v)
	if err != nil {
		return Entry{}, nil, err
	}
	if plain, err = decompressEntry(plain); err != nil {
		return Entry{}, nil, err
	}
	e, err := decodeEntry(plain)
	return e, plain, err
}

// entryAt reads the entry with the given seq.
func (b buckets) entryAt(seq uint64) (Entry, error) {
	k := seqKey(seq)
	e, _, err := b.entry(k, b.entries.Get(k))
	return e, err
}

// readHead returns the last seq and hash, or 0 and GenesisHash when empty.
func (b buckets) readHead() (uint64, string, error) {
	v := b.head.Get(headKey)
	if v == nil {
		return 0, GenesisHash, nil
	}
	v, err := b.c.load(headName, headKey, v)
	if err != nil {
		return 0, "", fmt.Errorf("reading the head: %w", err)
	}
	if len(v) < 8 {
		return 0, GenesisHash, nil
	}
	return binary.BigEndian.Uint64(v[:8]), string(v[8:]), nil
}

// writeHead records the last seq and hash.
func (b buckets) writeHead(seq uint64, hash string) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(hash)), seq)
	v = append(v, hash...)
	if b.c.sealed() {
		v = b.c.s.Seal(headName, headKey, v)
	}
	return b.head.Put(headKey, v)
}

// keyedFrom returns the first seq whose link is keyed (HMAC-SHA256); 0
// when none is (a plaintext ledger).
func (b buckets) keyedFrom() (uint64, error) {
	if !b.c.sealed() {
		return 0, nil
	}
	v, err := b.c.load(headName, keyedFromKey, b.head.Get(keyedFromKey))
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("reading keyed_from: the encrypted ledger does not say where its keyed chain starts (%v)", err)
	}
	return binary.BigEndian.Uint64(v), nil
}

// writeKeyedFrom records the first keyed seq.
func (b buckets) writeKeyedFrom(seq uint64) error {
	return b.head.Put(keyedFromKey, b.c.s.Seal(headName, keyedFromKey, seqKey(seq)))
}

// chainOf returns how the link of seq is hashed, given keyedFrom.
func (c codec) chainOf(seq, keyedFrom uint64) chainFunc {
	if keyedFrom > 0 && seq >= keyedFrom {
		return c.s.ChainMAC
	}
	return sha256.New
}

// checkCodec refuses to read an encrypted ledger without its sealer, and
// tells a schema mismatch.
func (c codec) check(tx *bbolt.Tx) error {
	if id, ok := seal.Encrypted(tx); ok && !c.sealed() {
		return seal.EncryptedError("audit", id)
	}
	// A newer release's layout, opened after a downgrade: this one would
	// append its own layout into it.
	if b, err := bucketsOf(tx, codec{}); err == nil {
		if v := readVersion(b.meta); v > sealedSchemaVersion {
			return fmt.Errorf("audit: opening ledger: %w: schema %d, where this ds4p reads up to %d; run the release that wrote it (nothing was written)",
				ErrNewerSchema, v, sealedSchemaVersion)
		}
	}
	return nil
}

// ErrNewerSchema says the ledger was written by a newer ds4p, in a layout
// this one does not know.
var ErrNewerSchema = errors.New("the ledger was written by a newer ds4p")

// migrateSealed encrypts a schema-2 ledger in transactions of chunk
// entries: each entry's value is sealed in place and its index keys
// replaced by keyed ones; progress is recorded in meta "migrated", so an
// interrupted migration resumes. The entries keep their unkeyed hashes;
// keyed_from, recorded at the end, is where the keyed chain starts.
func (l *Ledger) migrateSealed(chunk int) error {
	for done := false; !done; {
		err := l.db.Update(func(tx *bbolt.Tx) error {
			var err error
			done, err = l.migrateSealedStep(tx, chunk)
			return err
		})
		if err != nil {
			return fmt.Errorf("audit: encrypting the ledger (schema %d): %w", sealedSchemaVersion, err)
		}
	}
	return nil
}

// migrateSealedStep seals the next chunk of entries, or finishes.
func (l *Ledger) migrateSealedStep(tx *bbolt.Tx, chunk int) (done bool, err error) {
	plain, err := bucketsOf(tx, codec{})
	if err != nil {
		return false, err
	}
	if readVersion(plain.meta) >= sealedSchemaVersion {
		return true, nil
	}
	sealed := plain
	sealed.c = l.codec
	from := uint64(0)
	if v := plain.meta.Get(migratedKey); len(v) == 8 {
		from = binary.BigEndian.Uint64(v)
	}
	if from == 0 {
		// Every entry's keys are replaced below: entries a crash left
		// waiting for theirs (deferred.go) get them first.
		if err := indexAllPlain(plain); err != nil {
			return false, err
		}
	}
	c := plain.entries.Cursor()
	type todo struct {
		e     Entry
		plain []byte
	}
	var batch []todo
	k, v := c.Seek(seqKey(from + 1))
	for ; k != nil && len(batch) < chunk; k, v = c.Next() {
		e, p, err := plain.entry(k, v)
		if err != nil {
			return false, fmt.Errorf("seq %x: %w", k, err)
		}
		batch = append(batch, todo{e, bytes.Clone(p)})
	}
	more := k != nil
	for _, t := range batch {
		if err := deleteIndexKeys(plain, &t.e); err != nil {
			return false, err
		}
		if err := sealed.entries.Put(seqKey(t.e.Seq), sealed.c.storeEntry(t.e.Seq, t.plain)); err != nil {
			return false, err
		}
		if err := putIndexKeys(sealed, &t.e); err != nil {
			return false, err
		}
		from = t.e.Seq
	}
	if more {
		return false, plain.meta.Put(migratedKey, seqKey(from))
	}
	return true, finishSealing(plain, sealed)
}

// finishSealing seals the head, records where the keyed chain starts and
// the version.
func finishSealing(plain, sealed buckets) error {
	seq, hash, err := plain.readHead()
	if err != nil {
		return err
	}
	if plain.head.Get(headKey) != nil {
		if err := sealed.writeHead(seq, hash); err != nil {
			return err
		}
	}
	if err := sealed.writeKeyedFrom(seq + 1); err != nil {
		return err
	}
	// A checkpoint a prune wrote in plaintext is taken as the entries are:
	// from now on it is authenticated.
	if v := plain.meta.Get(checkpointKey); v != nil {
		if err := plain.meta.Put(checkpointMACKey, sealed.c.checkpointMAC(v)); err != nil {
			return err
		}
	}
	if err := plain.meta.Delete(migratedKey); err != nil {
		return err
	}
	return plain.meta.Put(versionKey, []byte{sealedSchemaVersion})
}
