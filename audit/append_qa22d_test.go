package audit

import (
	"testing"
	"time"
)

// TestAppendAllocations bounds the allocations of a durable one-entry
// append (a read's), the applier held off so that only the caller's path
// counts: the entry's copy and link, the group, the journal record and
// the wait. 16, where it took 27 at the start of QA round 22: a channel of
// errors with its buffer, the entry copied to the heap to be linked,
// Record's options built per call, the group's list of batches that
// linked, a record buffer per group, and link's and checkIndexable's own.
// The records written through the reused buffer read back whole.
func TestAppendAllocations(t *testing.T) {
	l := newLedger(t)
	l.applyDelay = time.Hour // Close's barrier cuts it short
	e := sample(1, "Patient/a")
	var err error
	n := testing.AllocsPerRun(200, func() { err = l.Append(t.Context(), e) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v allocations per append", n)
	if n > 16 {
		t.Errorf("Append: %v allocations, want at most 16", n)
	}
	recs, err := readJournal(l.j.f, l.j.size)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 201 {
		t.Fatalf("the journal holds %d records, want 201", len(recs))
	}
	for i, r := range recs {
		if r.first != uint64(i+1) || len(r.values) != 1 {
			t.Fatalf("record %d: first %d, %d values", i, r.first, len(r.values))
		}
		d, err := decodeEntry(r.values[0])
		if err != nil || d.Seq != uint64(i+1) || d.RequestID != e.RequestID {
			t.Fatalf("record %d: %+v, %v", i, d, err)
		}
	}
	settle(t, l)
	if got, err := l.EntriesAfter(t.Context(), 0, MaxLimit); err != nil || len(got) != 201 || got[200].Seq != 201 {
		t.Fatalf("after the appends the ledger holds %d entries (%v)", len(got), err)
	}
	if _, err := l.Verify(t.Context()); err != nil {
		t.Fatal(err)
	}
}
