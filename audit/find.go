package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"go.etcd.io/bbolt"
)

const (
	// DefaultLimit is how many entries Find returns when Query.Limit is 0.
	DefaultLimit = 100
	// MaxLimit caps Query.Limit.
	MaxLimit = 1000
)

// Query selects entries for Find.
type Query struct {
	// Patient selects one patient's entries ("Patient/<id>"); empty selects
	// all entries.
	Patient string
	// From (inclusive) and To (exclusive) bound entry Time; zero is unbounded.
	From, To time.Time
	// After is a seq cursor: only entries with a greater seq are returned.
	After uint64
	// Limit caps the number of entries returned: 0 means DefaultLimit, and
	// anything above MaxLimit means MaxLimit.
	Limit int
}

// Find returns the entries matching q, oldest (lowest seq) first. To page,
// pass the Seq of the last entry returned as the next query's After; fewer
// than the limit means there are no more. Patient queries read the patient
// index; time bounds filter, so sparse ranges over long histories cost a
// scan of the patient's (or all) entries.
func (l *Ledger) Find(ctx context.Context, q Query) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: finding entries: %w", err)
	}
	out := []Entry{}
	err := l.db.View(func(tx *bbolt.Tx) error {
		b, err := bucketsOf(tx)
		if err != nil {
			return err
		}
		out, err = find(b, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: finding entries: %w", err)
	}
	return out, nil
}

// find walks the patient index, or all entries, from the cursor on.
func find(b buckets, q Query) ([]Entry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	out := []Entry{}
	if q.After == math.MaxUint64 {
		return out, nil
	}
	next := seqWalker(b, q)
	for seq, ok := next(); ok && len(out) < limit; seq, ok = next() {
		e, err := decodeEntry(b.entries.Get(seqKey(seq)))
		if err != nil {
			return nil, fmt.Errorf("reading seq %d: %w", seq, err)
		}
		if inRange(e.Time, q.From, q.To) {
			out = append(out, e)
		}
	}
	return out, nil
}

// seqWalker returns a function yielding, in order, the seqs after q.After of
// q.Patient's entries, or of all entries.
func seqWalker(b buckets, q Query) func() (uint64, bool) {
	if q.Patient == "" {
		c := b.entries.Cursor()
		k, _ := c.Seek(seqKey(q.After + 1))
		return func() (uint64, bool) {
			if len(k) != 8 {
				return 0, false
			}
			seq := binary.BigEndian.Uint64(k)
			k, _ = c.Next()
			return seq, true
		}
	}
	prefix := patientKey(q.Patient, 0)[:len(q.Patient)+1]
	c := b.patients.Cursor()
	k, _ := c.Seek(patientKey(q.Patient, q.After+1))
	return func() (uint64, bool) {
		if !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
			return 0, false
		}
		seq := binary.BigEndian.Uint64(k[len(prefix):])
		k, _ = c.Next()
		return seq, true
	}
}

// inRange reports whether t lies in [from, to), zero bounds being open.
func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// decodeEntry decodes a stored entry; the result shares no memory with v.
func decodeEntry(v []byte) (Entry, error) {
	if v == nil {
		return Entry{}, fmt.Errorf("entry missing")
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, err
	}
	return e, nil
}
