package console

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// A review counts for the entry it names by seq and hash, not by seq
// alone: a review stored for another version of entry 2 (a hash the
// entry does not have: a rewritten ledger, or a review record copied in)
// leaves the entry in the queue of unreviewed break-the-glass
// disclosures, and is not shown as its review.
func TestReviewCountsOnlyForItsEntrysHash(t *testing.T) {
	t.Parallel()
	var rs *audit.Reviews
	f := newFixture(t, func(c *Config) { rs = c.Reviews })
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 2 {
		if err := f.ledger.Append(t.Context(), entry("Patient/p", t0.Add(time.Duration(i)*time.Minute), []string{"ETREAT"}, true)); err != nil {
			t.Fatal(err)
		}
	}
	hash1, _, _ := f.ledger.HashAt(t.Context(), 1)
	if _, err := rs.Add(t.Context(), audit.Review{EntrySeq: 1, EntryHash: hash1, Reviewer: "aud-2", Note: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Add(t.Context(), audit.Review{EntrySeq: 2, EntryHash: strings.Repeat("ab", 32), Reviewer: "aud-2", Note: "of another entry 2"}); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, auditorTok)
	var q struct{ Entries []queueEntry }
	rec := f.call(b, "audit/breakglass", `{"unreviewed":true}`)
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &q) != nil {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	if len(q.Entries) != 1 || q.Entries[0].Seq != 2 || len(q.Entries[0].Reviews) != 0 {
		t.Fatalf("unreviewed queue = %+v; want entry 2 alone, without the review of another hash", q.Entries)
	}
	rec = f.call(b, "audit/breakglass", `{}`)
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &q) != nil {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	if len(q.Entries) != 2 || len(q.Entries[0].Reviews) != 1 || len(q.Entries[1].Reviews) != 0 {
		t.Fatalf("queue = %+v; want entry 1 with its review, entry 2 with none", q.Entries)
	}
}
