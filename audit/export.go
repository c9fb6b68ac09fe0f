package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"go.etcd.io/bbolt"
)

// Export writes the entries whose Time lies in [from, to) (zero bounds
// open) to w as NDJSON, in seq order, one stored entry a line, reading
// defaultVerifyChunk entries per transaction. It returns how many it wrote.
// A complete export (no bounds) continues the chain from the checkpoint, so
// VerifyNDJSON can check it.
func (l *Ledger) Export(ctx context.Context, from, to time.Time, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	n, next := 0, uint64(0)
	chunk := l.verifyChunk
	if chunk <= 0 {
		chunk = defaultVerifyChunk
	}
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("audit: exporting: %w", err)
		}
		err := l.view(ctx, func(tx *bbolt.Tx) error {
			b, err := l.buckets(tx)
			if err != nil {
				return err
			}
			c := b.entries.Cursor()
			k, v := c.Seek(seqKey(next))
			for i := 0; k != nil && i < chunk; i++ {
				e, plain, err := b.entry(k, v)
				if err != nil {
					return fmt.Errorf("seq %x: %w", k, err)
				}
				if len(k) != 8 {
					return fmt.Errorf("malformed entry key %x", k)
				}
				if inRange(e.Time, from, to) {
					_, _ = bw.Write(plain)
					if err := bw.WriteByte('\n'); err != nil {
						return err
					}
					n++
				}
				// The key, not the entry's own claim: an entry claiming an
				// earlier seq sent the next chunk back there, exporting
				// entries again.
				next = binary.BigEndian.Uint64(k) + 1
				k, v = c.Next()
			}
			done = k == nil
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("audit: exporting: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: exporting: %w", err)
	}
	return n, nil
}

// VerifyNDJSON checks that the NDJSON entries read from r continue the
// chain after start (the genesis checkpoint for the first export) and
// returns the checkpoint after the last one, and how many it checked: its
// Time is the latest of start's and the entries' times (a Checkpoint's
// Time, as Prune records it). A broken link is a *BrokenError naming the
// seq.
func VerifyNDJSON(r io.Reader, start Checkpoint) (Checkpoint, int, error) {
	return verifyNDJSON(r, start, &verifier{next: start.Seq + 1, prev: start.Hash})
}

// VerifyNDJSON is the package's VerifyNDJSON for the exports of this
// ledger: links from its keyed_from on are checked under its chain key
// (an encrypted ledger's export holds keyed links, which the package
// function, having no key, reports as broken).
func (l *Ledger) VerifyNDJSON(r io.Reader, start Checkpoint) (Checkpoint, int, error) {
	v := &verifier{next: start.Seq + 1, prev: start.Hash, c: l.codec}
	err := l.view(context.Background(), func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err == nil {
			v.keyedFrom, err = b.keyedFrom()
		}
		return err
	})
	if err != nil {
		return start, 0, fmt.Errorf("audit: verifying NDJSON: %w", err)
	}
	return verifyNDJSON(r, start, v)
}

// verifyNDJSON checks the lines of r with v.
func verifyNDJSON(r io.Reader, start Checkpoint, v *verifier) (Checkpoint, int, error) {
	end, n := start, 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) == 0 {
			continue
		}
		e, err := decodeEntry(line)
		if err != nil {
			return end, n, &BrokenError{Seq: v.next, Reason: "line does not decode: " + err.Error()}
		}
		if reason := v.check(e, line); reason != "" {
			return end, n, &BrokenError{Seq: v.next, Reason: reason}
		}
		v.next, v.prev = v.next+1, e.Hash
		end.Seq, end.Hash = e.Seq, e.Hash
		if e.Time.After(end.Time) { // a checkpoint's time is the latest of the entries it covers
			end.Time = e.Time
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return end, n, fmt.Errorf("audit: reading NDJSON: %w", err)
	}
	return end, n, nil
}

// Head returns the seq and hash of the newest entry (the checkpoint's when
// every entry was pruned; 0 and GenesisHash when the ledger is empty).
// Recorded outside the host, it lets a later HashAt detect a rewritten
// file.
func (l *Ledger) Head(ctx context.Context) (seq uint64, hash string, err error) {
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	err = l.view(ctx, func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		seq, hash, err = b.readHead()
		return err
	})
	return seq, hash, err
}

// HashAt returns the stored hash of entry seq, or the checkpoint's hash
// when seq is the last pruned entry; ok is false when the ledger no longer
// (or never) held it.
func (l *Ledger) HashAt(ctx context.Context, seq uint64) (hash string, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	err = l.view(ctx, func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		if cp, auth, err := readCheckpoint(b); err == nil && auth != CheckpointUnauthenticated && cp.Seq == seq && seq > 0 {
			hash, ok = cp.Hash, true
			return nil
		}
		if v := b.entries.Get(seqKey(seq)); v != nil {
			e, _, err := b.entry(seqKey(seq), v)
			hash, ok = e.Hash, err == nil
			return nil
		}
		if head, _, err := b.readHead(); err == nil && seq > head {
			hash, ok = l.journaledHash(seq) // not yet in the file (WithPendingJournal)
		}
		return nil
	})
	return hash, ok, err
}
