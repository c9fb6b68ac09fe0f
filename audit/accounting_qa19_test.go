package audit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// pagedFinder finds its entries of q.Patient after q.After, a page at a
// time, as Ledger.Find does.
type pagedFinder []Entry

func (f pagedFinder) Find(_ context.Context, q Query) ([]Entry, error) {
	out := []Entry{}
	for _, e := range f {
		if e.Patient == q.Patient && (q.After.IsZero() || e.Seq > q.After.seq) && len(out) < q.Limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// manyItems is n entries of Patient/a disclosing k resources each, and
// withholding one.
func manyItems(n, k int) pagedFinder {
	var f pagedFinder
	for i := 1; i <= n; i++ {
		e := sample(i, "Patient/a")
		e.Disclosed = nil
		for j := range k {
			e.Disclosed = append(e.Disclosed, Item{Type: "Observation", ID: fmt.Sprintf("o%d-%d", i, j), Version: "1"})
		}
		e.Withheld = []Item{{Type: "Observation", ID: fmt.Sprintf("w%d", i)}}
		f = append(f, e)
	}
	return f
}

// TestAccountingBoundsDisclosedResources: an accounting is bounded by the
// resources it discloses, not only by its entries (1,500 entries of 1,000
// resources each was 1.5 million items held in memory, and an answer
// built from them: 100,000 such entries, gigabytes). At the bound it is
// whole; one resource more is ErrTooMany.
func TestAccountingBoundsDisclosedResources(t *testing.T) {
	t.Parallel()
	f := manyItems(30, 100)
	ds, es, err := accounting(context.Background(), f, "Patient/a", time.Time{}, time.Time{}, 3000)
	if err != nil || len(ds) != 30 || len(es) != 30 {
		t.Fatalf("at the bound: %d disclosures, %d entries, %v", len(ds), len(es), err)
	}
	if _, _, err := accounting(context.Background(), f, "Patient/a", time.Time{}, time.Time{}, 2999); !errors.Is(err, ErrTooMany) {
		t.Errorf("one resource over the bound: %v, want ErrTooMany", err)
	}
	for _, e := range es {
		if len(e.Withheld) != 0 || len(e.Disclosed) != 100 {
			t.Fatalf("entry %d keeps %d withheld and %d disclosed items", e.Seq, len(e.Withheld), len(e.Disclosed))
		}
	}
}
