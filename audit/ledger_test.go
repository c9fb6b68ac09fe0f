package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestAppendFind checks that entries come back as appended, numbered and
// chained, and that the caller's entries are left alone.
func TestAppendFind(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("EST", -5*3600))
	l := newLedger(t, WithClock(func() time.Time { return now }))
	in := []Entry{sample(1, "Patient/a"), sample(2, "Patient/a"), {RequestID: "bare", Patient: "Patient/a"}}
	in[1].BreakGlass = &BreakGlass{Reason: "unconscious in ED", DisclosedBy: "ds4p"}
	orig := slices.Clone(in)
	if err := l.Append(t.Context(), in...); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Error("Append modified the caller's entries")
	}
	got, err := l.Find(t.Context(), Query{Patient: "Patient/a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Find returned %d entries, want 3", len(got))
	}
	prev := GenesisHash
	for i, e := range got {
		want := canonical(in[i])
		if want.Time.IsZero() {
			want.Time = now.UTC()
		}
		want.Seq, want.PrevHash, want.Hash = uint64(i+1), prev, e.Hash
		if !reflect.DeepEqual(e, want) {
			t.Errorf("entry %d =\n%+v\nwant\n%+v", i, e, want)
		}
		if len(e.Hash) != 64 || e.Hash == prev {
			t.Errorf("entry %d hash %q is not a new SHA-256", i, e.Hash)
		}
		prev = e.Hash
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 3 {
		t.Errorf("Verify = %d, %v; want 3, nil", n, err)
	}
}

// TestAppendRejects checks the inputs Append refuses.
func TestAppendRejects(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		entries []Entry
		is      error
	}{
		{"canceled context", canceled, []Entry{sample(1, "Patient/a")}, context.Canceled},
		{"NUL in patient", context.Background(), []Entry{sample(1, "Patient/a\x00b")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			err := l.Append(tt.ctx, tt.entries...)
			if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("Append error = %v, want %v", err, tt.is)
			}
			if n, _ := l.Verify(t.Context()); n != 0 {
				t.Errorf("a refused Append stored %d entries", n)
			}
		})
	}
}

// TestOpenRefusesNoSync checks that a ledger is never opened without fsync.
func TestOpenRefusesNoSync(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	db.NoSync = true
	if _, err := Open(db); err == nil {
		t.Fatal("Open accepted a NoSync database")
	}
}

// TestConcurrentAppend checks that 50 concurrent writers produce one linear,
// verifiable chain with every entry exactly once and each call's entries
// consecutive.
func TestConcurrentAppend(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	const writers, calls = 50, 6
	var wg sync.WaitGroup
	errs := make(chan error, writers*calls)
	for w := range writers {
		wg.Go(func() {
			for c := range calls {
				entries := []Entry{sample(w*100+c, fmt.Sprintf("Patient/w%d", w))}
				if c%3 == 0 { // some calls append three entries at once
					entries = append(entries, entries[0], entries[0])
				}
				if err := l.Append(t.Context(), entries...); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	const total = writers * (calls + 2*2)
	n, err := l.Verify(t.Context())
	if err != nil || n != total {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, total)
	}
	all := findAll(t, l, Query{}) // in time order; the chain is in seq order
	slices.SortFunc(all, func(a, b Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
	checkCallsConsecutive(t, all)
}

// checkCallsConsecutive checks that each request id occurs once, or three
// times in a row for the multi-entry calls.
func checkCallsConsecutive(t *testing.T, all []Entry) {
	t.Helper()
	seen := map[string]int{}
	for i, e := range all {
		seen[e.RequestID]++
		if seen[e.RequestID] > 1 && all[i-1].RequestID != e.RequestID {
			t.Errorf("entries of request %s are not consecutive", e.RequestID)
		}
	}
	for id, count := range seen {
		if count != 1 && count != 3 {
			t.Errorf("request %s stored %d times", id, count)
		}
	}
}

// findAll pages through every entry matching q.
func findAll(t *testing.T, l *Ledger, q Query) []Entry {
	t.Helper()
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	var all []Entry
	for {
		page, err := l.Find(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		q.After = CursorAfter(page[len(page)-1])
	}
}

// TestReopenContinuesChain checks that a second Ledger on the same file
// continues the chain.
func TestReopenContinuesChain(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for i := range 2 {
		l, err := Open(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Append(t.Context(), sample(i, "Patient/a")); err != nil {
			t.Fatal(err)
		}
	}
	l, _ := Open(db)
	if n, err := l.Verify(t.Context()); err != nil || n != 2 {
		t.Errorf("Verify = %d, %v; want 2, nil", n, err)
	}
}

// TestBucketsMissing checks that a ledger whose buckets were removed fails
// instead of panicking.
func TestBucketsMissing(t *testing.T) {
	t.Parallel()
	for _, journal := range []bool{false, true} {
		size := int64(0)
		if journal {
			size = DefaultJournalSize
		}
		l := newLedger(t, WithJournalSize(size))
		if err := l.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(rootBucket) }); err != nil {
			t.Fatal(err)
		}
		// With the journal the first append is durable there; storing it
		// then fails, and the ledger refuses what follows.
		if err := l.Append(t.Context(), sample(1, "Patient/a")); err == nil && !journal {
			t.Error("Append succeeded without buckets")
		}
		if _, err := l.Find(t.Context(), Query{}); err == nil {
			t.Errorf("journal %v: Find succeeded without buckets", journal)
		}
		if err := l.Append(t.Context(), sample(2, "Patient/a")); err == nil {
			t.Errorf("journal %v: an Append after the failure succeeded", journal)
		}
		if _, err := l.Verify(t.Context()); err == nil {
			t.Errorf("journal %v: Verify succeeded without buckets", journal)
		}
	}
}

// TestLinkAppendsTheHash: link's output is what encoding/json gives for the
// entry with its hash, for entries with and without the optional fields
// (a field added after Hash, or a hash that needed escaping, would break
// this).
func TestLinkAppendsTheHash(t *testing.T) {
	t.Parallel()
	entries := []Entry{canonical(sample(1, "Patient/a")), canonical(Entry{}), canonical(sample(2, `Patient/"q"<&>`))}
	bg := canonical(sample(3, "Patient/b"))
	bg.BreakGlass, bg.Alert = &BreakGlass{Reason: "r"}, "alert-1"
	entries = append(entries, bg)
	for i, e := range entries {
		e.PrevHash = GenesisHash
		got, err := link(&e, sha256.New)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(e)
		if !bytes.Equal(got, want) {
			t.Fatalf("entry %d: link gave\n%s\nwant\n%s", i, got, want)
		}
	}
}
