package audit

import (
	"runtime"
	"testing"
)

// TestRecentFullRunAllocatesNothing: once the run is at its entry bound,
// a read's commit allocates nothing in recent. Letting append grow the
// window as it slid along its array reallocated and copied the whole run
// (~1.6 MB at 4,096 entries) every ~1,000 commits: ~1.5 KB per read.
func TestRecentFullRunAllocatesNothing(t *testing.T) {
	r := newRecent()
	e := sample(1, "Patient/a")
	commit := func(seq uint64) {
		e.Seq = seq
		r.committed([]Entry{e})
	}
	seq := uint64(0)
	for range 3 * recentEntries { // past the bound and any first growth
		seq++
		commit(seq)
	}
	const n = 5*recentEntries + 1000 // the window ends inside buf, not at its end
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		seq++
		commit(seq)
	}
	runtime.ReadMemStats(&after)
	perCommit := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.0f B per commit", perCommit)
	if perCommit > 64 {
		t.Errorf("recent allocates %.0f B per commit at its bound, want none", perCommit)
	}
	got, ok := r.after(seq-recentEntries, MaxLimit)
	if !ok || len(got) != MaxLimit || got[0].Seq != seq-recentEntries+1 {
		t.Fatalf("after the commits recent answers %v with %d entries", ok, len(got))
	}
	if len(r.entries) != recentEntries || r.entries[len(r.entries)-1].Seq != seq {
		t.Fatalf("recent holds %d entries ending at %d, want %d ending at %d", len(r.entries), r.entries[len(r.entries)-1].Seq, recentEntries, seq)
	}
	// The places the run left hold nothing (their lists can go): the only
	// entries in buf are the run's.
	held := 0
	for i := range r.buf {
		if r.buf[i].Seq != 0 {
			held++
		}
	}
	if held != len(r.entries) {
		t.Fatalf("buf holds %d entries, the run %d", held, len(r.entries))
	}
}
