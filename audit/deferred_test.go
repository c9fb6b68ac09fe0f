package audit

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// randomEntry is an entry with fields drawn from small sets, so that
// queries match some entries and miss others, and a Time that is not in
// seq order.
func randomEntry(r *rand.Rand) Entry {
	e := sample(r.IntN(1000), fmt.Sprintf("Patient/p%d", r.IntN(4)))
	e.Time = t0.Add(time.Duration(r.IntN(120)) * time.Minute)
	e.Caller = Party{Subject: fmt.Sprintf("Practitioner/dr%d", r.IntN(3)), Org: fmt.Sprintf("Organization/o%d", r.IntN(2))}
	e.Purposes = []string{[]string{"TREAT", "HPAYMT", "HOPERAT"}[r.IntN(3)]}
	if r.IntN(5) == 0 {
		e.BreakGlass = &BreakGlass{Reason: "emergency", DisclosedBy: "Organization/prog"}
	}
	return e
}

// randomQuery draws a query over randomEntry's fields.
func randomQuery(r *rand.Rand) Query {
	var q Query
	switch r.IntN(5) {
	case 0:
		q.Patient = fmt.Sprintf("Patient/p%d", r.IntN(4))
	case 1:
		q.Recipient = []string{"Practitioner/dr0", "Organization/o1"}[r.IntN(2)]
	case 2:
		q.Purpose = []string{"TREAT", "HPAYMT", "HOPERAT"}[r.IntN(3)]
	case 3:
		q.BreakGlass = true
	}
	if r.IntN(2) == 0 {
		q.From = t0.Add(time.Duration(r.IntN(60)) * time.Minute)
	}
	if r.IntN(2) == 0 {
		q.To = t0.Add(time.Duration(60+r.IntN(60)) * time.Minute)
	}
	q.Limit = 1 + r.IntN(7)
	return q
}

// bruteFind is what Find must return: every entry read from the entries
// bucket that matches q, in (time, seq) order, paged by limit.
func bruteFind(t *testing.T, l *Ledger, q Query) [][]Entry {
	t.Helper()
	var all []Entry
	err := l.db.View(func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		return b.entries.ForEach(func(k, v []byte) error {
			e, _, err := b.entry(k, v)
			if err == nil && q.matches(&e) {
				all = append(all, e)
			}
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b Entry) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmpUint(a.Seq, b.Seq)
	})
	var pages [][]Entry
	for len(all) >= q.Limit {
		pages, all = append(pages, all[:q.Limit]), all[q.Limit:]
	}
	return append(pages, all)
}

// pagesWithoutIndexing pages through q the way Find does, but without
// Find's IndexPending first, so that the entries after the mark come from
// the merge.
func pagesWithoutIndexing(t *testing.T, l *Ledger, q Query) [][]Entry {
	t.Helper()
	var pages [][]Entry
	for {
		page, err := l.findAsStored(q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
		if len(page) < q.Limit {
			return pages
		}
		q.After = CursorAfter(page[len(page)-1])
	}
}

func seqsOf(pages [][]Entry) [][]uint64 {
	out := make([][]uint64, len(pages))
	for i, p := range pages {
		out[i] = []uint64{}
		for _, e := range p {
			out[i] = append(out[i], e.Seq)
		}
	}
	return out
}

// TestDeferredIndexMatchesBruteForce appends random entries in groups of
// random size, with a small indexing run so that most checks find some
// entries indexed and some waiting, and after each group compares paged
// queries (read without indexing first) with a scan of every entry.
func TestDeferredIndexMatchesBruteForce(t *testing.T) {
	t.Parallel()
	for _, every := range []int{1, 7, 64} {
		t.Run(fmt.Sprintf("every=%d", every), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(uint64(every), 2))
			l := newLedger(t)
			l.indexEvery = every
			sawWaiting, sawIndexed := false, false
			for round := 0; round < 40; round++ {
				batch := make([]Entry, 1+r.IntN(5))
				for i := range batch {
					batch[i] = randomEntry(r)
				}
				if err := l.Append(t.Context(), batch...); err != nil {
					t.Fatal(err)
				}
				_ = l.db.View(func(tx *bbolt.Tx) error {
					b, _ := l.buckets(tx)
					tail, _ := b.tailEntries()
					sawWaiting = sawWaiting || len(tail) > 0
					sawIndexed = sawIndexed || mustIx(t, b, byTime).Stats().KeyN > 0
					return nil
				})
				for range 5 {
					q := randomQuery(r)
					got, want := seqsOf(pagesWithoutIndexing(t, l, q)), seqsOf(bruteFind(t, l, q))
					if !slices.EqualFunc(got, want, slices.Equal) {
						t.Fatalf("round %d, %+v:\n got %v\nwant %v", round, q, got, want)
					}
				}
			}
			if every > 1 && !sawWaiting || !sawIndexed {
				t.Fatalf("the test saw waiting entries %v, indexed entries %v", sawWaiting, sawIndexed)
			}
			if n, err := l.Verify(t.Context()); err != nil || n == 0 {
				t.Fatalf("Verify = %d, %v", n, err)
			}
		})
	}
}

// TestDeferredIndexAfterCrash stops a ledger with entries waiting for their
// index keys, as a crash would: a read-only open finds and verifies them
// all, and the next read-write open indexes them.
func TestDeferredIndexAfterCrash(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 10) // fewer than indexEvery: all wait
	_ = db.Close()          // no IndexPending

	ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l, err = Open(ro)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Find(t.Context(), Query{Patient: "Patient/b"})
	if err != nil || len(got) != 5 {
		t.Fatalf("read-only Find = %d entries, %v; want 5", len(got), err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 10 {
		t.Fatalf("read-only Verify = %d, %v", n, err)
	}
	if keys := indexKeyCount(t, l); keys != 0 {
		t.Fatalf("%d index keys before indexing; the test expects none", keys)
	}
	_ = ro.Close()

	db = openFile(t, path)
	defer db.Close()
	if l, err = Open(db); err != nil {
		t.Fatal(err)
	}
	if keys := indexKeyCount(t, l); keys == 0 {
		t.Fatal("Open left the waiting entries unindexed")
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		b, _ := l.buckets(tx)
		if v := b.meta.Get(indexedKey); v != nil {
			t.Errorf("meta indexed = %x after Open; want it gone", v)
		}
		return nil
	})
	if n, err := l.Verify(t.Context()); err != nil || n != 10 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func indexKeyCount(t *testing.T, l *Ledger) int {
	n := 0
	_ = l.db.View(func(tx *bbolt.Tx) error {
		b, _ := l.buckets(tx)
		for _, ix := range indexes {
			n += mustIx(t, b, ix).Stats().KeyN
		}
		return nil
	})
	return n
}

// TestVerifyChecksTheIndexMark moves meta "indexed" both ways: below the
// indexed entries (their keys are then unexpected) and above waiting ones
// (their keys are then missing).
func TestVerifyChecksTheIndexMark(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		mark uint64
		seq  uint64
	}{
		{"lowered", 4, 5},
		{"raised", 18, 11},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Without the journal, whose applier may store several appends
			// in one commit and so move where the indexing stops.
			l := newLedger(t, WithJournalSize(0))
			l.indexEvery = 10
			appendSamples(t, l, 18) // 1–10 indexed, 11–18 waiting
			tamper(t, l, func(t *testing.T, b buckets) { mustPut(t, b.meta, indexedKey, seqKey(tt.mark)) })
			// Read-only, as ds4p audit verify reads it: Verify cannot index first.
			ro := &Ledger{db: readOnlyView(t, l.db), codec: l.codec, verifyChunk: 3, indexEvery: 10}
			_, err := ro.Verify(t.Context())
			var be *BrokenError
			if !errors.As(err, &be) || be.Seq != tt.seq {
				t.Fatalf("Verify = %v; want broken at %d", err, tt.seq)
			}
		})
	}
}

// readOnlyView returns db reopened read-only. The writable handle is closed
// first (bbolt locks the file).
func readOnlyView(t *testing.T, db *bbolt.DB) *bbolt.DB {
	t.Helper()
	path := db.Path()
	_ = db.Close()
	ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ro.Close() })
	return ro
}

// TestVerifyWhileIndexing verifies in chunks of 3 while appends between
// chunks move the mark past entries Verify saw waiting: finish must find
// their keys then, and not count them as strays.
func TestVerifyWhileIndexing(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.indexEvery, l.verifyChunk = 5, 3
	appendSamples(t, l, 4) // Verify indexes these first
	chunks := 0
	l.afterVerifyChunk = func() {
		chunks++
		n := map[int]int{1: 2, 2: 10}[chunks] // 5, 6 wait while chunk 2 reads them; then 7–16 index them
		for i := range n {
			if err := l.Append(t.Context(), sample(100+i, "Patient/c")); err != nil {
				t.Error(err)
			}
		}
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 16 {
		t.Fatalf("Verify = %d, %v; want 16", n, err)
	}
	if chunks < 3 {
		t.Fatalf("Verify read %d chunks; the test needs 3 or more", chunks)
	}
}

// TestPruneWaitingEntries prunes entries that wait for their index keys:
// indexing later writes none for them.
func TestPruneWaitingEntries(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 10)
	if _, err := l.Prune(t.Context(), t0.Add(6*time.Minute), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := l.IndexPending(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want the 5 entries left", n, err)
	}
	if got, _ := l.Find(t.Context(), Query{}); len(got) != 5 || got[0].Seq != 6 {
		t.Fatalf("Find = %d entries from seq %d", len(got), got[0].Seq)
	}
}

// TestFindWhileAppending pages through one patient's entries while others
// append and the indexes catch up in runs of 5: every page is in order,
// with no entry twice, each scan sees at least what the one before saw,
// and the last equals a scan of every entry.
func TestFindWhileAppending(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.indexEvery = 5
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 40 {
				e := sample(w*100+i, []string{"Patient/a", "Patient/b"}[i%2])
				if err := l.Append(t.Context(), e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	q := Query{Patient: "Patient/a", Limit: 7}
	seen := 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		var got []Entry
		err := l.Scan(t.Context(), q, func(e Entry) error {
			got = append(got, e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range got {
			if e.Patient != "Patient/a" {
				t.Fatalf("scan returned %s", e.Patient)
			}
			if i > 0 {
				p := got[i-1]
				if c := p.Time.Compare(e.Time); c > 0 || c == 0 && p.Seq >= e.Seq {
					t.Fatalf("scan out of order or repeated at %d: seq %d then %d", i, p.Seq, e.Seq)
				}
			}
		}
		if len(got) < seen {
			t.Fatalf("a scan saw %d entries after one saw %d", len(got), seen)
		}
		seen = len(got)
	}
	want := bruteFind(t, l, Query{Patient: "Patient/a", Limit: MaxLimit})
	if seen != 80 || len(want) != 1 || len(want[0]) != 80 {
		t.Fatalf("the last scan saw %d entries; all entries hold %d of the patient's", seen, len(want[0]))
	}
}
