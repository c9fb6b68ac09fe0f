package console

import (
	"encoding/json"
	"testing"
	"time"
)

// TestBreakGlassQueueListsEntriesCommittedBehindItsCursorQA42D (QA round
// 42, area D): a ledger entry's time is when its request arrived and it is
// committed when the response is ready, so a slow emergency request
// commits after faster ones that arrived later. The queue pages by (time,
// seq): an emergency disclosure committed after the auditor read page 1,
// whose request arrived before page 1's last entry, sorts behind the
// cursor and was on no page of that pass, which ended with nothing more
// to review. The pass lists every break-the-glass disclosure committed
// before its last page.
func TestBreakGlassQueueListsEntriesCommittedBehindItsCursorQA42D(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 { // seqs 1-3, at t0+1m, +2m, +3m
		if err := f.ledger.Append(t.Context(), entry("Patient/p", t0.Add(time.Duration(i+1)*time.Minute), []string{"ETREAT"}, true)); err != nil {
			t.Fatal(err)
		}
	}
	b := f.login(t, auditorTok)
	var q struct {
		Entries []queueEntry
		Next    string
	}
	page := func(body string) {
		t.Helper()
		q.Entries, q.Next = nil, ""
		rec := f.call(b, "audit/breakglass", body)
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &q) != nil {
			t.Fatalf("queue %s: %d %s", body, rec.Code, rec.Body)
		}
	}
	seen := map[uint64]bool{}
	see := func() {
		t.Helper()
		for _, e := range q.Entries {
			if seen[e.Seq] {
				t.Errorf("seq %d is on two pages", e.Seq)
			}
			seen[e.Seq] = true
		}
	}
	page(`{"unreviewed":true,"limit":2}`)
	see()
	if len(q.Entries) != 2 || q.Next == "" {
		t.Fatalf("page 1: %d entries, next %q; want 2 and a next page", len(q.Entries), q.Next)
	}
	// A request that arrived at t0+1m30s, before page 1's last entry, is
	// answered (and committed) now.
	late := entry("Patient/slow", t0.Add(90*time.Second), []string{"ETREAT"}, true)
	if err := f.ledger.Append(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		page(`{"unreviewed":true,"limit":2,"cursor":"` + q.Next + `"}`)
		see()
		if q.Next == "" {
			break
		}
	}
	for seq := uint64(1); seq <= 3; seq++ {
		if !seen[seq] {
			t.Errorf("seq %d was on no page", seq)
		}
	}
	if !seen[5] { // seq 4 is the auditor's read of page 1
		t.Errorf("the unreviewed emergency disclosure committed after page 1 (seq 5, arrived before page 1's last entry) was on no page of the pass, which ended: the auditor saw %v", seen)
	}
}
