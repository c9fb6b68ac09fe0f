package audit

import (
	"context"
	"testing"
)

// numbered is f with seqs 1, 2, ...
func numbered(f pagedFinder) pagedFinder {
	for i := range f {
		f[i].Seq = uint64(i + 1)
	}
	return f
}

// limitsFinder is a pagedFinder that notes the items of each page it
// answers.
type limitsFinder struct {
	pagedFinder
	pages []int
}

func (f *limitsFinder) Find(ctx context.Context, q Query) ([]Entry, error) {
	page, err := f.pagedFinder.Find(ctx, q)
	items := 0
	for _, e := range page {
		items += len(e.Disclosed) + len(e.Withheld)
	}
	f.pages = append(f.pages, items)
	return page, err
}

// TestScanPagesBoundedByItems: Scan reads large entries fewer at a time,
// so no page holds much more than scanPageItems resources (before, a page
// was MaxLimit entries whatever their size: here all 300 entries of 1,001
// items at once), and still visits every entry once, in order.
func TestScanPagesBoundedByItems(t *testing.T) {
	t.Parallel()
	f := &limitsFinder{pagedFinder: numbered(manyItems(300, 1000))} // 1,001 items an entry
	var seen []uint64
	err := Scan(context.Background(), f, Query{Patient: "Patient/a"}, func(e Entry) error {
		seen = append(seen, e.Seq)
		return nil
	})
	if err != nil || len(seen) != 300 {
		t.Fatalf("Scan saw %d entries, %v", len(seen), err)
	}
	for i, seq := range seen {
		if seq != uint64(i+1) {
			t.Fatalf("entry %d is seq %d", i, seq)
		}
	}
	for i, items := range f.pages {
		if items > scanFirstPage*1001 || i > 0 && items > scanPageItems+1001 {
			t.Errorf("page %d held %d items", i, items)
		}
	}
	// small entries are still read MaxLimit at a time after the first page
	small := &limitsFinder{pagedFinder: numbered(manyItems(2500, 1))}
	if err := Scan(context.Background(), small, Query{Patient: "Patient/a"}, func(Entry) error { return nil }); err != nil || len(small.pages) != 4 {
		t.Errorf("2,500 small entries took %d pages (%v), want 4 (100, 1000, 1000, 400)", len(small.pages), err)
	}
}
