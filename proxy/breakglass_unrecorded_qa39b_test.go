package proxy

import (
	"testing"

	"github.com/ds4p/ds4p/siem"
)

// TestBreakGlassWithheldRaisesNoUseQA39B: every break-the-glass disclosure
// raises the metric, the log line and a SIEM event, beside the ledger's
// 2.51 record. They were raised before the response was recorded, so an
// emergency response withheld because the ledger could not record it
// (500, nothing disclosed, no 2.51 record) still reported a disclosure
// flagged in the ledger for review that never happened: the reviewer
// finds no entry for it. They are raised once the response is recorded.
func TestBreakGlassWithheldRaisesNoUseQA39B(t *testing.T) {
	t.Parallel()
	ev := &recEvents{}
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth, d.Events = breakGlassAuth{}, ev
	})
	h.ledger.mu.Lock()
	h.ledger.fail = true
	h.ledger.mu.Unlock()
	if resp, _ := h.get("/fhir/Condition/p2c", "any", "X-Request-Id", "bg-lost"); resp.StatusCode != 500 {
		t.Fatalf("break-glass read with the ledger down: %d, want 500", resp.StatusCode)
	}
	ev.mu.Lock()
	for _, e := range ev.evs {
		if e.Kind == siem.KindBreakGlass {
			t.Errorf("a withheld emergency response raised a break-the-glass event: %+v", e)
		}
	}
	ev.mu.Unlock()
	h.ledger.mu.Lock()
	h.ledger.fail = false
	h.ledger.mu.Unlock()
	if resp, _ := h.get("/fhir/Condition/p2c", "any", "X-Request-Id", "bg-ok"); resp.StatusCode != 200 {
		t.Fatalf("break-glass read: %d", resp.StatusCode)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	n := 0
	for _, e := range ev.evs {
		if e.Kind == siem.KindBreakGlass && e.RequestID == "bg-ok" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the recorded emergency disclosure raised %d events, want 1: %+v", n, ev.evs)
	}
}
