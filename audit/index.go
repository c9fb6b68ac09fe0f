package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// index is one secondary index: for each entry, the values it is found
// under. A keyed index stores <value>|<time>|<seq>; an unkeyed one
// <time>|<seq> for each entry it selects.
type index struct {
	name  []byte
	keyed bool
	kind  indexKind // which values (appendValues)
}

type indexKind uint8

const (
	ixTime indexKind = iota
	ixPatient
	ixRecipient
	ixPurpose
	ixBreakGlass
)

// The secondary indexes, in the order Verify reports them.
var (
	byTime       = &index{name: []byte("by_time"), kind: ixTime}
	byPatient    = &index{name: []byte("by_patient"), keyed: true, kind: ixPatient}
	byRecipient  = &index{name: []byte("by_recipient"), keyed: true, kind: ixRecipient}
	byPurpose    = &index{name: []byte("by_purpose"), keyed: true, kind: ixPurpose}
	byBreakGlass = &index{name: []byte("by_break_glass"), kind: ixBreakGlass}
	indexes      = []*index{byTime, byPatient, byRecipient, byPurpose, byBreakGlass}
)

// values returns the values e is found under in ix.
func (ix *index) values(e *Entry) []string { return ix.appendValues(nil, e) }

// appendValues appends the values e is found under in ix to dst: for a
// keyed index the distinct non-empty ones, sorted; for an unkeyed one a
// single "" when ix selects e. A switch rather than a function per index,
// so that a caller's dst on its stack stays there (every append computes
// these twice: checkIndexable and keysOf).
func (ix *index) appendValues(dst []string, e *Entry) []string {
	switch ix.kind {
	case ixTime:
		return append(dst, "")
	case ixPatient:
		return appendNonEmpty(dst, e.Patient)
	case ixRecipient:
		return appendNonEmpty(dst, e.Caller.Subject, e.Caller.Org)
	case ixPurpose:
		return appendNonEmpty(dst, e.Purposes...)
	case ixBreakGlass:
		if e.BreakGlass == nil {
			return dst
		}
		return append(dst, "")
	}
	panic("audit: index of unknown kind " + string(ix.name))
}

// nonEmpty returns the distinct non-empty values, sorted.
func nonEmpty(values ...string) []string { return appendNonEmpty(nil, values...) }

// appendNonEmpty appends the distinct non-empty values to dst, sorted
// among themselves.
func appendNonEmpty(dst []string, values ...string) []string {
	start := len(dst)
	for _, v := range values {
		if v != "" && !slices.Contains(dst[start:], v) {
			dst = append(dst, v)
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// keys returns the index keys of e, as codec c writes them.
func (ix *index) keys(c codec, e *Entry) [][]byte {
	values := ix.values(e)
	out := make([][]byte, 0, len(values))
	for _, v := range values {
		out = append(out, ix.key(c, v, timeKey(e.Time), e.Seq))
	}
	return out
}

// key is value|0x00|time|seq (sealed: HMAC(value)|time|seq) for a keyed
// index, time|seq otherwise.
func (ix *index) key(c codec, value string, t, seq uint64) []byte {
	return ix.appendKey(make([]byte, 0, ix.keySize(c, value)), c, value, t, seq)
}

// appendKey appends the key of value at t and seq (key) to dst.
func (ix *index) appendKey(dst []byte, c codec, value string, t, seq uint64) []byte {
	if ix.keyed {
		dst = c.appendIndexPrefix(dst, ix, value)
	}
	dst = binary.BigEndian.AppendUint64(dst, t)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// keySize is the length of the key of value.
func (ix *index) keySize(c codec, value string) int {
	if !ix.keyed {
		return 16
	}
	return c.indexPrefixSize(value) + 16
}

// prefix is what every key of value starts with: value|0x00 (sealed: the
// value's HMAC), or nothing.
func (ix *index) prefix(c codec, value string) []byte {
	if !ix.keyed {
		return make([]byte, 0, 16)
	}
	return c.indexPrefix(ix, value)
}

// keySeq returns the seq a well-formed index key ends with.
func keySeq(k []byte) (uint64, bool) {
	if len(k) < 16 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(k)-8:]), true
}

// keyPosition returns the time and seq a well-formed index key ends with.
func keyPosition(k []byte) (t, seq uint64) {
	return binary.BigEndian.Uint64(k[len(k)-16:]), binary.BigEndian.Uint64(k[len(k)-8:])
}

// timeKey maps t to an unsigned integer that sorts as t does: Unix
// nanoseconds with the sign bit flipped, so times before 1970 sort first.
func timeKey(t time.Time) uint64 {
	// UnixNano is undefined outside 1678–2262; a bound out there (an
	// auditor's "to=9999-12-31" for "no end") is clamped to the ends of the
	// key space instead of wrapping round and matching nothing. Entries'
	// own times are always inside.
	switch {
	case t.Before(minKeyTime):
		return 0
	case t.After(maxKeyTime):
		return math.MaxUint64
	}
	return uint64(t.UnixNano()) ^ (1 << 63)
}

// The times UnixNano can represent.
var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// timeBounds returns [from, to) as time keys, zero bounds being open.
func timeBounds(from, to time.Time) (uint64, uint64) {
	lo, hi := uint64(0), uint64(math.MaxUint64)
	if !from.IsZero() {
		lo = timeKey(from)
	}
	if !to.IsZero() {
		hi = timeKey(to)
	}
	return lo, hi
}

// checkIndexable refuses values that would make ambiguous keys.
func checkIndexable(e *Entry) error {
	for _, ix := range indexes {
		if !ix.keyed {
			continue
		}
		var buf [4]string
		for _, v := range ix.appendValues(buf[:0], e) {
			if strings.IndexByte(v, 0) >= 0 {
				return fmt.Errorf("%s value contains a NUL byte", strings.TrimPrefix(string(ix.name), "by_"))
			}
		}
	}
	return nil
}

// putIndexKeys stores e's keys in every index.
func putIndexKeys(b buckets, e *Entry) error {
	for _, ix := range indexes {
		bk, err := b.ix(ix)
		if err != nil {
			return err
		}
		for _, k := range ix.keys(b.c, e) {
			if err := bk.Put(k, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteIndexKeys removes e's keys from every index.
func deleteIndexKeys(b buckets, e *Entry) error {
	for _, ix := range indexes {
		bk, err := b.ix(ix)
		if err != nil {
			return err
		}
		for _, k := range ix.keys(b.c, e) {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// migrateChunk is how many entries one migration transaction indexes.
const migrateChunk = 10_000

// migrate brings a schema-1 ledger (entries, a patient|seq index and the
// head) to the current schema: it builds the secondary indexes in
// transactions of chunk entries, recording progress so that an interrupted
// migration resumes, then drops the old index and records the version.
func migrate(db *bbolt.DB, chunk int) error {
	for done := false; !done; {
		err := db.Update(func(tx *bbolt.Tx) error {
			var err error
			done, err = migrateStep(tx, chunk)
			return err
		})
		if err != nil {
			return fmt.Errorf("audit: migrating the ledger to schema %d: %w", schemaVersion, err)
		}
	}
	return nil
}

// migrateStep indexes the next chunk of entries, or finishes.
func migrateStep(tx *bbolt.Tx, chunk int) (done bool, err error) {
	b, err := bucketsOf(tx, codec{}) // schema 2 is plaintext
	if err != nil {
		return false, err
	}
	if readVersion(b.meta) >= schemaVersion {
		return true, nil
	}
	from := uint64(0)
	if v := b.meta.Get(migratedKey); len(v) == 8 {
		from = binary.BigEndian.Uint64(v)
	}
	c := b.entries.Cursor()
	n := 0
	k, v := c.Seek(seqKey(from + 1))
	for ; k != nil && n < chunk; k, v = c.Next() {
		e, _, err := b.entry(k, v)
		if err != nil {
			return false, fmt.Errorf("seq %x: %w", k, err)
		}
		if err := putIndexKeys(b, &e); err != nil {
			return false, err
		}
		from, n = e.Seq, n+1
	}
	if k != nil {
		return false, b.meta.Put(migratedKey, seqKey(from))
	}
	return true, finishMigration(tx, b)
}

// finishMigration drops the schema-1 patient index and records the version.
func finishMigration(tx *bbolt.Tx, b buckets) error {
	schema := tx.Bucket(rootBucket).Bucket(schemaBucket)
	if schema.Bucket(legacyPatientsBucket) != nil {
		if err := schema.DeleteBucket(legacyPatientsBucket); err != nil {
			return err
		}
	}
	if err := b.meta.Delete(migratedKey); err != nil {
		return err
	}
	return b.meta.Put(versionKey, []byte{schemaVersion})
}

// readVersion returns the recorded schema version; a ledger without one is
// schema 1.
func readVersion(meta *bbolt.Bucket) byte {
	v := meta.Get(versionKey)
	if len(v) != 1 {
		return 1
	}
	return v[0]
}

// ErrNeedsMigration says a read-only ledger is of an older schema.
var ErrNeedsMigration = errors.New("the ledger has an older schema; open it read-write once (ds4p serve, or any ds4p audit command with serve stopped) to migrate it")
