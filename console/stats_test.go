package console

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// countingTailer counts the entries read through it.
type countingTailer struct {
	tailer
	read int
}

func (c *countingTailer) EntriesAfter(ctx context.Context, seq uint64, limit int) ([]audit.Entry, error) {
	es, err := c.tailer.EntriesAfter(ctx, seq, limit)
	c.read += len(es)
	return es, err
}

// openLedgerAndReviews opens a ledger and the reviews (where the counters
// are saved) on one fresh file.
func openLedgerAndReviews(t *testing.T) (*audit.Ledger, *audit.Reviews) {
	t.Helper()
	db := openTempDB(t)
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	return l, rs
}

func TestStatsResumeFromSavedCounters(t *testing.T) {
	t.Parallel()
	l, rs := openLedgerAndReviews(t)
	day := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := l.Append(t.Context(), entry("Patient/a", day.Add(time.Duration(i)*time.Hour), []string{"TREAT"}, false)); err != nil {
			t.Fatal(err)
		}
	}
	first := newStats(l, rs)
	if err := first.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(t.Context(), entry("Patient/a", day, []string{"TREAT"}, false)); err != nil {
		t.Fatal(err)
	}
	// A restart: the saved counters are adopted, only the new entry is read.
	ct := &countingTailer{tailer: l}
	second := newStats(ct, rs)
	second.load(t.Context())
	if err := second.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(second.series(day, 1)["disclosed_by_purpose"])
	if ct.read != 1 || got != "map[TREAT:[6]]" || second.entries != 6 {
		t.Fatalf("after a restart: read %d entries, counters %s, %d entries", ct.read, got, second.entries)
	}
	// Counters saved for another ledger (its last entry's hash differs)
	// are not adopted: everything is counted again.
	other := openTempDB(t)
	l2, err := audit.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := l2.Append(t.Context(), entry("Patient/b", day.Add(time.Duration(i)*time.Minute), []string{"HPAYMT"}, false)); err != nil {
			t.Fatal(err)
		}
	}
	ct2 := &countingTailer{tailer: l2}
	third := newStats(ct2, rs) // rs holds the first ledger's counters
	third.load(t.Context())
	if err := third.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	got = fmt.Sprint(third.series(day, 1)["disclosed_by_purpose"])
	if ct2.read != 6 || got != "map[HPAYMT:[6]]" {
		t.Fatalf("foreign counters: read %d, counters %s", ct2.read, got)
	}
}

// countingStore counts saves.
type countingStore struct {
	counterStore
	saves int
}

func (c *countingStore) SaveCounters(ctx context.Context, name string, blob []byte) error {
	c.saves++
	return c.counterStore.SaveCounters(ctx, name, blob)
}

// Refreshes run every second; the counters are saved at most every
// saveInterval, and a restart counts again only what came after the save.
func TestStatsSavesAtIntervals(t *testing.T) {
	t.Parallel()
	l, rs := openLedgerAndReviews(t)
	store := &countingStore{counterStore: rs}
	st := newStats(l, store)
	day := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := l.Append(t.Context(), entry("Patient/a", day, []string{"TREAT"}, false)); err != nil {
			t.Fatal(err)
		}
		if err := st.refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if store.saves != 1 {
			t.Fatalf("after refresh %d: %d saves; want the first only", i+1, store.saves)
		}
	}
	st.mu.Lock()
	st.savedAt = st.savedAt.Add(-saveInterval)
	st.mu.Unlock()
	if err := st.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if store.saves != 2 {
		t.Fatalf("%d saves once saveInterval passed; want 2", store.saves)
	}
	ct := &countingTailer{tailer: l}
	again := newStats(ct, rs)
	again.load(t.Context())
	if err := again.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ct.read != 0 || again.entries != 3 {
		t.Fatalf("after a restart: read %d entries, %d counted; want 0 and 3", ct.read, again.entries)
	}
}
