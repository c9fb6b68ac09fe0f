package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"go.etcd.io/bbolt"
)

// Deferred indexing. An append writes its entries and the head; the
// secondary indexes (by_time, by_patient, ...) are written for a run of
// entries at once, in the commit that brings the run to indexEvery entries,
// and before anything reads them. Each index is its own bucket, so writing an
// entry's keys at once dirties five or six more pages in every commit;
// BenchmarkAppendDurable measured twice the durable entries per second
// without them. meta "indexed" records the last seq the indexes are complete
// through while later entries wait; without it they are complete through
// the head.
//
// What reads the indexes never misses a waiting entry:
//   - Find, on a writable ledger, first writes the waiting keys, and in any
//     case also reads the entries after the mark from the entries bucket and
//     merges them into its page (a read-only ledger after a crash);
//   - Verify requires the keys of every entry up to the mark and none after
//     it, so a moved mark is reported like any other index damage;
//   - Open writes whatever a crash left waiting, and IndexPending (called
//     when ds4p stops) leaves the file fully indexed.

// defaultIndexEvery is how many waiting entries a commit indexes together.
const defaultIndexEvery = 64

// indexedKey is meta "indexed": <seq> through which the indexes are complete.
var indexedKey = []byte("indexed")

// waitingKeys are the index keys of one appended entry not yet written.
type waitingKeys struct {
	seq  uint64
	keys []ixKey
}

type ixKey struct {
	ix  *index
	key []byte
}

// keysOf computes every index key of e: each index's keys (index.keys),
// in one allocation for the keys' bytes and one for the list. An append
// computes them for each entry, and index by index a read's entry took ~18
// allocations.
func keysOf(c codec, e *Entry) waitingKeys {
	var vbuf [16]string
	var bounds [9]int // indexes[i]'s values are values[bounds[i]:bounds[i+1]]
	values, size := vbuf[:0], 0
	for i, ix := range indexes {
		values = ix.appendValues(values, e)
		bounds[i+1] = len(values)
		for _, v := range values[bounds[i]:] {
			size += ix.keySize(c, v)
		}
	}
	w := waitingKeys{seq: e.Seq, keys: make([]ixKey, 0, len(values))}
	t, buf := timeKey(e.Time), make([]byte, 0, size)
	for i, ix := range indexes {
		for _, v := range values[bounds[i]:bounds[i+1]] {
			start := len(buf)
			buf = ix.appendKey(buf, c, v, t, e.Seq)
			w.keys = append(w.keys, ixKey{ix, buf[start:len(buf):len(buf)]})
		}
	}
	return w
}

// writer serialises the ledger's write transactions that append or index,
// so that waiting (the keys of entries appended after the mark, in seq
// order) changes only after the transaction that justifies it committed.
type writer struct {
	mu      sync.Mutex
	waiting []waitingKeys
}

// headAndMark returns the last seq and the seq through which the indexes
// are complete.
func (b buckets) headAndMark() (head, indexed uint64, err error) {
	if head, _, err = b.readHead(); err != nil {
		return 0, 0, err
	}
	indexed, err = b.indexedThrough(head)
	return head, indexed, err
}

// indexedThrough returns the seq through which the indexes are complete.
func (b buckets) indexedThrough(head uint64) (uint64, error) {
	v := b.meta.Get(indexedKey)
	switch {
	case v == nil:
		return head, nil
	case len(v) != 8:
		return 0, fmt.Errorf("malformed meta %q", indexedKey)
	}
	return binary.BigEndian.Uint64(v), nil
}

// settleIndex runs at the end of a write transaction: when at least every
// entries wait after the mark (any, when every is 1), it writes their keys
// and removes the mark; otherwise it records the mark. known holds keys
// already computed for waiting entries; an entry without them is read and
// decoded. An entry deleted meanwhile (pruned) gets no keys. It reports
// whether it indexed.
func settleIndex(b buckets, indexed, head uint64, known []waitingKeys, every int) (bool, error) {
	if head <= indexed {
		return false, b.meta.Delete(indexedKey)
	}
	if head-indexed < uint64(max(every, 1)) {
		mark := seqKey(indexed)
		if bytes.Equal(b.meta.Get(indexedKey), mark) {
			return false, nil // unchanged: the meta bucket stays clean
		}
		return false, b.meta.Put(indexedKey, mark)
	}
	i := 0
	c := b.entries.Cursor()
	for k, v := c.Seek(seqKey(indexed + 1)); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return false, fmt.Errorf("malformed entry key %x", k)
		}
		seq := binary.BigEndian.Uint64(k)
		if seq > head {
			break
		}
		for i < len(known) && known[i].seq < seq {
			i++
		}
		var w waitingKeys
		if i < len(known) && known[i].seq == seq {
			w = known[i]
		} else {
			e, _, err := b.entry(k, v)
			if err != nil {
				return false, fmt.Errorf("indexing seq %d: %w", seq, err)
			}
			w = keysOf(b.c, &e)
		}
		for _, k := range w.keys {
			bk, err := b.ix(k.ix)
			if err != nil {
				return false, err
			}
			if err := bk.Put(k.key, nil); err != nil {
				return false, err
			}
		}
	}
	return true, b.meta.Delete(indexedKey)
}

// IndexPending writes the index keys of entries still waiting for them
// (see deferred indexing above), so that the file is fully indexed. ds4p
// calls it when it stops; Open and every query do it too.
func (l *Ledger) IndexPending(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: indexing: %w", err)
	}
	if l.db.IsReadOnly() {
		return nil
	}
	if err := l.barrier(ctx); err != nil {
		return fmt.Errorf("audit: indexing: %w", err)
	}
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	if err := l.indexPendingLocked(); err != nil {
		return fmt.Errorf("audit: indexing: %w", err)
	}
	return nil
}

// indexPendingLocked indexes every waiting entry, holding l.w.mu. It
// starts no transaction when this process appended nothing since the last
// indexing (Open has indexed what it found).
func (l *Ledger) indexPendingLocked() error {
	if len(l.w.waiting) == 0 {
		return nil
	}
	err := l.db.Update(func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		head, indexed, err := b.headAndMark()
		if err != nil {
			return err
		}
		_, err = settleIndex(b, indexed, head, l.w.waiting, 1)
		return err
	})
	if err == nil {
		l.w.waiting = nil
	}
	return err
}

// tailEntries returns the entries after the index mark, which no index
// holds yet, decoded.
func (b buckets) tailEntries() ([]Entry, error) {
	head, indexed, err := b.headAndMark()
	if err != nil || indexed >= head {
		return nil, err
	}
	var out []Entry
	c := b.entries.Cursor()
	for k, v := c.Seek(seqKey(indexed + 1)); k != nil; k, v = c.Next() {
		e, _, err := b.entry(k, v)
		if err != nil {
			return nil, fmt.Errorf("seq %x: %w", k, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// mergeTail adds to out, the first limit index matches of q in (time, seq)
// order, the tail entries that match q and lie after its start, and keeps
// the first limit of the union.
func mergeTail(out, tail []Entry, q Query, limit int) []Entry {
	added := false
	for _, e := range tail {
		if !q.matches(&e) || !q.afterCursor(&e) {
			continue
		}
		out, added = append(out, e), true
	}
	if !added {
		return out
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := cmpUint(timeKey(a.Time), timeKey(b.Time)); c != 0 {
			return c
		}
		return cmpUint(a.Seq, b.Seq)
	})
	return out[:min(len(out), limit)]
}

// afterCursor reports whether e lies after q.After in (time, seq) order.
func (q Query) afterCursor(e *Entry) bool {
	if q.After.IsZero() {
		return true
	}
	t := timeKey(e.Time)
	return t > q.After.t || t == q.After.t && e.Seq > q.After.seq
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
