package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// defaultVerifyChunk is how many entries Verify checks per read
// transaction, so a long ledger does not hold one read transaction (and block
// the file from growing) for the whole walk.
const defaultVerifyChunk = 10_000

// BrokenError reports the first place where the ledger is not the chain
// Append wrote.
type BrokenError struct {
	// Seq is the first seq that is missing, altered, out of place or extra.
	Seq uint64
	// Reason says what is wrong there.
	Reason string
}

// Error returns "audit: chain broken at seq N: reason".
func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit: chain broken at seq %d: %s", e.Seq, e.Reason)
}

// verifier carries the walk's position from one chunk to the next.
type verifier struct {
	chunkN  int    // entries per read transaction
	started bool   // whether the first chunk was read
	next    uint64 // seq expected next
	prev    string // hash of the last verified entry
	indexed map[*index]int
	// mark is the seq the indexes are complete through, as of the current
	// chunk; unindexed are the verified entries after it (deferred.go).
	mark      uint64
	unindexed []uint64
	c         codec // how links are keyed
	// keyedFrom is the first seq whose link is keyed (HMAC-SHA256); 0: none.
	keyedFrom uint64
	// legacy holds the seqs of entries verified as legacyLink encodings,
	// with their time keys; owed counts, per index, their keys that cannot
	// be found by value (legacyKeys).
	legacy map[uint64]uint64
	owed   map[*index]int
}

// VerifyOptions adjust VerifyWith.
type VerifyOptions struct {
	// Proven is a checkpoint the caller checked otherwise, normally by
	// verifying the prune exports from genesis to it under the chain key
	// (Ledger.VerifyNDJSON): an encrypted ledger's checkpoint without its
	// MAC (CheckpointUnauthenticated) is accepted when it has this seq and
	// hash. nil accepts none.
	Proven *Checkpoint
}

// VerifyResult is what VerifyWith checked.
type VerifyResult struct {
	// N is how many entries were verified, from seq Checkpoint.Seq+1.
	N uint64
	// Checkpoint is where the walk started (the last one, if a concurrent
	// prune moved it), and CheckpointAuth what vouches for it.
	Checkpoint     Checkpoint
	CheckpointAuth CheckpointAuth
	// HeadSeq and HeadHash are the last entry verified (the checkpoint's
	// when none was; 0 and GenesisHash for an empty ledger).
	HeadSeq  uint64
	HeadHash string
	// Pending counts the entries, among N, that a ledger opened
	// WithPendingJournal found in its journal after the file's head: a
	// crash left them unstored, or the newest entries were deleted from
	// the file (and the head set back). The next read-write Open stores
	// them.
	Pending uint64
}

// Verify is VerifyWith without options, returning how many entries it
// verified.
func (l *Ledger) Verify(ctx context.Context) (n uint64, err error) {
	r, err := l.VerifyWith(ctx, VerifyOptions{})
	return r.N, err
}

// VerifyWith walks the whole chain, oldest first. It starts after the
// prune checkpoint (see Prune), if any, from the hash recorded there; if a
// concurrent prune passes the walk, it continues from the new checkpoint.
// A checkpoint not to be relied on stops it first (see Checkpoint; opts
// may vouch for an unauthenticated one). The first altered, deleted,
// inserted or reordered entry, a missing or stray index key, or a head
// that does not match the last entry stops the walk with a *BrokenError
// naming the seq. Entries appended while it runs are verified too.
func (l *Ledger) VerifyWith(ctx context.Context, opts VerifyOptions) (res VerifyResult, err error) {
	if err := l.IndexPending(ctx); err != nil {
		return res, err
	}
	v := &verifier{chunkN: l.verifyChunk, indexed: map[*index]int{}, c: l.codec}
	first := uint64(0)
	defer func() { res.N = v.next - first }()
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("audit: verifying: %w", err)
		}
		err := l.view(ctx, func(tx *bbolt.Tx) error {
			b, err := l.buckets(tx)
			if err != nil {
				return err
			}
			if v.keyedFrom, err = b.keyedFrom(); err != nil {
				return &BrokenError{Seq: 0, Reason: err.Error()}
			}
			cp, auth, err := readCheckpoint(b)
			var broken *BrokenError
			if errors.As(err, &broken) {
				return err
			}
			if err != nil {
				return &BrokenError{Seq: 0, Reason: err.Error()}
			}
			if err := l.trustCheckpoint(cp, auth, opts.Proven); err != nil {
				return err
			}
			res.Checkpoint, res.CheckpointAuth = cp, auth
			switch {
			case !v.started:
				v.next, v.prev, first = cp.Seq+1, cp.Hash, cp.Seq+1
			case cp.Seq >= v.next: // a prune, which checks the links it deletes, passed us
				v.next, v.prev = cp.Seq+1, cp.Hash
				clear(v.indexed) // every entry counted so far was deleted with its keys
				clear(v.owed)
				v.unindexed = nil
			}
			if _, v.mark, err = b.headAndMark(); err != nil {
				return &BrokenError{Seq: 0, Reason: err.Error()}
			}
			done, err = v.chunk(b)
			return err
		})
		if errors.Is(err, ErrDamaged) {
			return res, &BrokenError{Seq: v.next, Reason: strings.TrimPrefix(err.Error(), "audit: ")}
		}
		if err != nil {
			return res, err
		}
		if l.afterVerifyChunk != nil {
			l.afterVerifyChunk()
		}
	}
	if len(l.journaled) > 0 {
		if err := l.view(ctx, func(tx *bbolt.Tx) error { return l.verifyJournal(tx, v, &res) }); err != nil {
			return res, err
		}
	}
	res.HeadSeq, res.HeadHash = v.next-1, v.prev
	return res, nil
}

// verifyJournal checks, after the walk of the file, what a ledger opened
// WithPendingJournal read from its journal: an entry the file holds must
// be the journaled one (same hash), and those after the file's head must
// continue the chain from it, with no gap; they are counted as pending.
// A journaled entry that does not open is skipped where the file has its
// seq (sealed under a key since removed, say: there is nothing to compare
// with), and is a break after the head.
func (l *Ledger) verifyJournal(tx *bbolt.Tx, v *verifier, res *VerifyResult) error {
	b, err := l.buckets(tx)
	if err != nil {
		return err
	}
	for _, je := range l.journaled {
		if je.seq < v.next {
			if je.err != nil {
				continue
			}
			stored := b.entries.Get(seqKey(je.seq))
			if stored == nil {
				continue // pruned
			}
			e, _, err := b.entry(seqKey(je.seq), stored)
			if err == nil && e.Hash != je.e.Hash {
				return &BrokenError{Seq: je.seq, Reason: fmt.Sprintf("the journal (%s) holds another entry at this seq: the file's entry was replaced, or the journal belongs to another chain", journalSuffix)}
			}
			continue
		}
		switch {
		case je.seq > v.next:
			return &BrokenError{Seq: v.next, Reason: fmt.Sprintf("entry missing: the file ends at seq %d and its journal (%s) goes on at seq %d", v.next-1, journalSuffix, je.seq)}
		case je.err != nil:
			return &BrokenError{Seq: je.seq, Reason: "the journaled entry, not yet in the file, does not open or decode: " + je.err.Error()}
		}
		if reason := v.check(je.e, je.plain); reason != "" {
			return &BrokenError{Seq: je.seq, Reason: "the journaled entry, not yet in the file: " + reason}
		}
		v.next, v.prev = v.next+1, je.e.Hash
		res.Pending++
	}
	return nil
}

// chunk verifies up to v.chunkN entries; at the end of the chain it also
// checks the head and the indexes, and reports done.
func (v *verifier) chunk(b buckets) (done bool, err error) {
	// A chunk resumes at the last entry verified, not at the next seq: a
	// key that is no seq (seqKey(N) and a byte more) sorts between N and
	// N+1, and a Seek to N+1 skipped it when N ended a chunk.
	c := b.entries.Cursor()
	var k, val []byte
	if !v.started {
		k, val = c.First()
		v.started = true
	} else {
		last := seqKey(v.next - 1)
		if k, val = c.Seek(last); bytes.Equal(k, last) {
			k, val = c.Next()
		}
	}
	for range v.chunkN {
		if k == nil {
			return true, v.finish(b)
		}
		if err := v.entry(b, k, val); err != nil {
			return false, err
		}
		k, val = c.Next()
	}
	return false, nil
}

// entry checks one stored entry against the chain so far.
func (v *verifier) entry(b buckets, k, val []byte) error {
	if len(k) != 8 {
		return &BrokenError{Seq: v.next, Reason: fmt.Sprintf("malformed key %x", k)}
	}
	if seq := binary.BigEndian.Uint64(k); seq != v.next {
		return gapError(seq, v.next)
	}
	e, plain, err := b.entry(k, val)
	if err != nil {
		return &BrokenError{Seq: v.next, Reason: "stored entry does not open or decode: " + err.Error()}
	}
	if reason := v.check(e, plain); reason != "" {
		return &BrokenError{Seq: v.next, Reason: reason}
	}
	if e.Seq > v.mark {
		if err := v.notIndexedYet(b, &e); err != nil {
			return err
		}
	} else if err := v.inIndexes(b, &e); err != nil {
		return err
	}
	v.next, v.prev = v.next+1, e.Hash
	return nil
}

// inIndexes checks that e is in every index it belongs in, and counts its
// keys. A legacy entry's value holding U+FFFD was indexed by the bytes it
// replaced, which are gone: its key is owed, found by position in
// strayIndex.
func (v *verifier) inIndexes(b buckets, e *Entry) error {
	_, legacy := v.legacy[e.Seq]
	for _, ix := range indexes {
		bk, err := b.ix(ix)
		if err != nil {
			return err
		}
		t := timeKey(e.Time)
		for _, value := range ix.values(e) {
			switch {
			case bk.Get(ix.key(b.c, value, t, e.Seq)) != nil:
				v.indexed[ix]++
			case legacy && strings.ContainsRune(value, utf8.RuneError):
				if v.owed == nil {
					v.owed = map[*index]int{}
				}
				v.owed[ix]++
			default:
				return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("entry missing from the %s index", ix.name)}
			}
		}
	}
	return nil
}

// notIndexedYet checks that e, after the index mark, has no index key
// (the keys of a run of entries and the mark change in one transaction),
// and remembers it for finish.
func (v *verifier) notIndexedYet(b buckets, e *Entry) error {
	for _, ix := range indexes {
		bk, err := b.ix(ix)
		if err != nil {
			return err
		}
		for _, key := range ix.keys(b.c, e) {
			if bk.Get(key) != nil {
				return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("the %s index holds the entry, which meta %q says is not indexed yet", ix.name, indexedKey)}
			}
		}
	}
	v.unindexed = append(v.unindexed, e.Seq)
	return nil
}

// gapError describes a key that is not the seq expected.
func gapError(seq, want uint64) error {
	if seq > want {
		return &BrokenError{Seq: want, Reason: fmt.Sprintf("entry missing (next stored seq is %d)", seq)}
	}
	return &BrokenError{Seq: seq, Reason: fmt.Sprintf("unexpected entry before seq %d", want)}
}

// check returns why e, whose plaintext is val, does not continue the
// chain, or "".
func (v *verifier) check(e Entry, val []byte) string {
	switch {
	case e.Seq != v.next:
		return fmt.Sprintf("entry claims seq %d", e.Seq)
	case e.PrevHash != v.prev:
		return "prev_hash does not match the previous entry's hash"
	}
	hash, keyed := e.Hash, v.keyedFrom > 0 && e.Seq >= v.keyedFrom
	if keyed && !v.c.sealed() {
		return "the entry's link is keyed (HMAC-SHA256) and verifying it needs the storage key"
	}
	chain := v.c.chainOf(e.Seq, v.keyedFrom)
	body, err := link(&e, chain)
	switch {
	case err != nil:
		return "entry does not encode: " + err.Error()
	case (e.Hash != hash || !bytes.Equal(body, val)) && legacyLink(chain, e.PrevHash, hash, body, val):
		if v.legacy == nil {
			v.legacy = map[uint64]uint64{}
		}
		v.legacy[e.Seq] = timeKey(e.Time)
		return ""
	case e.Hash != hash && keyed:
		return "hash does not match the entry's content under the chain key (HMAC-SHA256)"
	case e.Hash != hash:
		return "hash does not match the entry's content"
	case !bytes.Equal(body, val):
		return "stored bytes are not the entry's canonical JSON"
	}
	return ""
}

// legacyLink reports whether val, an entry stored with hash, is one a
// release before 2026-12-05 wrote from strings that were not valid UTF-8:
// its JSON holds \ufffd (encoding/json's escape of each bad byte) where the
// canonical JSON of the entry it decodes to (body, as link made it, with
// its hash) holds U+FFFD unescaped, and hash chains prev to those stored
// bytes. Such an entry is as its writer hashed it: read strictly, it broke
// the chain for good, since the bytes it was hashed from are gone.
// Nothing else may differ, so no other bytes verify this way.
func legacyLink(chain chainFunc, prev, hash string, body, val []byte) bool {
	stored, ok := bytes.CutSuffix(val, []byte(`,"hash":"`+hash+`"}`))
	if !ok || !bytes.Contains(stored, []byte(`\ufffd`)) {
		return false
	}
	canon, ok := bytes.CutSuffix(body, []byte(`"}`))
	if i := bytes.LastIndex(canon, []byte(`,"hash":"`)); ok && i >= 0 {
		canon = canon[:i]
	} else {
		return false
	}
	if !bytes.Equal(unescapeReplacement(stored), canon) {
		return false
	}
	return chainHash(chain, prev, append(stored[:len(stored):len(stored)], '}')) == hash
}

// unescapeReplacement returns JSON text b with each \ufffd escape written
// as the character itself, leaving every other escape (\\ufffd is a
// backslash and the letters) as it is.
func unescapeReplacement(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && bytes.HasPrefix(b[i+2:], []byte("fffd")) {
			out = append(out, "\uFFFD"...)
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}

// finish checks, at the end of the chain, that the head names the last entry
// and that the indexes hold nothing but the verified entries.
func (v *verifier) finish(b buckets) error {
	seq, hash, err := b.readHead()
	if err != nil {
		return &BrokenError{Seq: v.next, Reason: err.Error()}
	}
	last := v.next - 1
	switch {
	case seq > last:
		return &BrokenError{Seq: last + 1, Reason: fmt.Sprintf("entry missing (the head records seq %d)", seq)}
	case seq < last:
		return &BrokenError{Seq: seq + 1, Reason: fmt.Sprintf("entry after the recorded head (seq %d)", seq)}
	case hash != v.prev:
		return &BrokenError{Seq: seq, Reason: "the head's hash differs from the entry's"}
	}
	// Entries verified before an indexing that has since passed them must
	// now be in the indexes; those still after the mark must not.
	for _, s := range v.unindexed {
		e, err := b.entryAt(s)
		if err != nil {
			return &BrokenError{Seq: s, Reason: "stored entry does not open or decode: " + err.Error()}
		}
		if s <= v.mark {
			err = v.inIndexes(b, &e)
		} else {
			err = v.notIndexedYet(b, &e)
		}
		if err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		if err := v.strayIndex(b, ix); err != nil {
			return err
		}
	}
	return nil
}

// strayIndex reports an index key that no verified entry accounts for,
// and an owed key of a legacy entry that is not there.
func (v *verifier) strayIndex(b buckets, ix *index) error {
	bk, err := b.ix(ix)
	if err != nil {
		return err
	}
	if v.owed[ix] == 0 && bk.Stats().KeyN == v.indexed[ix] {
		return nil
	}
	owed := v.owed[ix]
	c := bk.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if isLegacyKey(k, v.legacy) && !slices.ContainsFunc(keysAt(b, ix, k), func(want []byte) bool { return bytes.Equal(want, k) }) {
			owed--
			continue
		}
		if err := indexKeyMatches(b, ix, k); err != nil {
			return err
		}
	}
	if owed == 0 && bk.Stats().KeyN == v.indexed[ix]+v.owed[ix] {
		return nil
	}
	return &BrokenError{Seq: v.next, Reason: fmt.Sprintf("the %s index holds keys no entry accounts for", ix.name)}
}

// isLegacyKey reports whether index key k is at the position (time and
// seq) of an entry verified as a legacy encoding (verifier.legacy).
func isLegacyKey(k []byte, legacy map[uint64]uint64) bool {
	if len(legacy) == 0 || len(k) < 16 {
		return false
	}
	t, seq := keyPosition(k)
	at, ok := legacy[seq]
	return ok && at == t
}

// keysAt returns the keys of the entry index key k names, nil when it
// names none.
func keysAt(b buckets, ix *index, k []byte) [][]byte {
	seq, ok := keySeq(k)
	if !ok {
		return nil
	}
	e, err := b.entryAt(seq)
	if err != nil || e.Seq != seq {
		return nil
	}
	return ix.keys(b.c, &e)
}

// indexKeyMatches checks that index key k is one of the keys of the entry
// it names.
func indexKeyMatches(b buckets, ix *index, k []byte) error {
	seq, ok := keySeq(k)
	if !ok {
		return &BrokenError{Seq: 0, Reason: fmt.Sprintf("malformed %s index key %q", ix.name, k)}
	}
	e, err := b.entryAt(seq)
	if err == nil && e.Seq == seq && slices.ContainsFunc(ix.keys(b.c, &e), func(want []byte) bool { return bytes.Equal(want, k) }) {
		return nil
	}
	return &BrokenError{Seq: seq, Reason: fmt.Sprintf("the %s index holds a key for seq %d that the entry does not account for", ix.name, seq)}
}
