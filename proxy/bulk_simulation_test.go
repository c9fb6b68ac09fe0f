package proxy

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
)

// TestSimulationsCountTowardsBulkAccess: /admin/decide simulations that
// read patients' stored consents count towards bulk-access detection as
// reads do: a policy author simulating against patient after patient
// learns which have Part 2 consents, and was never counted (QA round 19).
// The crossing simulation's ledger entry is flagged and the author blocked.
func TestSimulationsCountTowardsBulkAccess(t *testing.T) {
	t.Parallel()
	store := openAlerts(t)
	ev := &recEvents{}
	h := newHarness(t, observationUpstream, withBulk(BulkRules{MaxPatients: 3, Block: true}, store, ev))
	author := "pa|Organization/ops|console|" + authn.PolicyAuthorScope
	simulate := func(i int) (*http.Response, string) {
		return h.post("/admin/decide", author, fmt.Sprintf(`{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},`+
			`"patient":"Patient/p%d","resources":[{"resourceType":"Observation","id":"o%d","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p%d"}}]}`, i, i, i))
	}
	for i := 1; i <= 4; i++ {
		if resp, body := simulate(i); resp.StatusCode != http.StatusOK {
			t.Fatalf("simulation %d: %d %s", i, resp.StatusCode, body)
		}
	}
	entries := h.ledger.entries
	if len(entries) != 4 || entries[3].Interaction != "simulate" || !strings.HasPrefix(entries[3].Alert, "bulk-") || entries[2].Alert != "" {
		t.Fatalf("ledger %+v, want the fourth simulation flagged", entries)
	}
	if k := ev.kinds(); k[siem.KindBulkAlert] != 1 {
		t.Fatalf("events %v, want one bulk alert", k)
	}
	if resp, body := simulate(5); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, entries[3].Alert) {
		t.Fatalf("the blocked author's next simulation: %d %s, want 403 naming the alert", resp.StatusCode, body)
	}
}
