package audit

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"
)

// EntriesAfter returns up to limit entries whose Seq is greater than seq,
// in seq (commit) order; limit <= 0 means DefaultLimit, above MaxLimit
// MaxLimit. Unlike Find's (time, seq) order, seq order never lets an entry
// committed later appear before a position already read, so a tailing
// reader (the SIEM export) that remembers the last seq it handled sees
// every entry once. Entries pruned meanwhile are skipped. Entries of the
// latest commits come from memory (recent.go): the same values, without
// reading them back; callers must not modify what the returned entries
// share (their lists and BreakGlass).
func (l *Ledger) EntriesAfter(ctx context.Context, seq uint64, limit int) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: reading entries after %d: %w", seq, err)
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if err := l.barrier(ctx); err != nil {
		return nil, fmt.Errorf("audit: reading entries after %d: %w", seq, err)
	}
	if out, ok := l.recent.after(seq, limit); ok {
		return out, nil
	}
	out := []Entry{}
	err := l.view(ctx, func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		c := b.entries.Cursor()
		for k, v := c.Seek(seqKey(seq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			e, _, err := b.entry(k, v)
			if err != nil {
				return fmt.Errorf("seq %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: reading entries after %d: %w", seq, err)
	}
	return out, nil
}
