package audit

import (
	"testing"
	"time"
)

// TestEntriesAfterSeqOrder shows that the tail reads in commit order even
// when a later entry carries an earlier Time, and pages by seq.
func TestEntriesAfterSeqOrder(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	late := sample(5, "Patient/a")
	early := sample(1, "Patient/b")
	early.Time = late.Time.Add(-time.Hour)
	flagged := sample(2, "Patient/a")
	flagged.Alert = "bulk-1"
	if err := l.Append(t.Context(), late, early, flagged); err != nil {
		t.Fatal(err)
	}
	got, err := l.EntriesAfter(t.Context(), 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || got[1].RequestID != early.RequestID {
		t.Fatalf("first page = %+v, want seq 1 and 2 (the earlier Time second)", got)
	}
	rest, err := l.EntriesAfter(t.Context(), got[1].Seq, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0].Seq != 3 || rest[0].Alert != "bulk-1" {
		t.Fatalf("second page = %+v, want seq 3 flagged bulk-1", rest)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v; a flagged entry must keep the chain", n, err)
	}
	none, err := l.EntriesAfter(t.Context(), 3, 10)
	if err != nil || len(none) != 0 {
		t.Fatalf("after the head = %v, %v; want none", none, err)
	}
}
