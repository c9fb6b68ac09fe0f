package proxy

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestSyncPresenceCheckAgainstAServerIgnoringID: a server that ignores
// _id answers each Consent?_id= chunk of the presence check with every
// consent; the check read them all once per chunk of 100 mirrored ids
// (for 10,000 mirrored consents, a million a round). The first consent
// listed that was not asked for now ends the check, and the round is a
// full one, reading each consent once (QA round 31, area D's note).
func TestSyncPresenceCheckAgainstAServerIgnoringID(t *testing.T) {
	t.Parallel()
	f := newExpungeFHIR()
	_, sc := newExpungeSetup(t, f)
	const n = 500
	for i := range n {
		id := fmt.Sprintf("c%04d", i)
		f.put(id, upstreamConsent(id, "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
	}
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	f.mu.Lock()
	f.ignoreID, f.idSearches, f.fullSearches = true, 0, 0
	f.mu.Unlock()
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental: the presence check
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idSearches != 1 || f.fullSearches != 1 {
		t.Errorf("%d Consent?_id= searches and %d full searches, want 1 and 1 (a full round after the first answer shows _id ignored)", f.idSearches, f.fullSearches)
	}
	if got := len(sc.mirror.ids()); got != n {
		t.Errorf("the mirror holds %d ids after the round, want %d", got, n)
	}
}
