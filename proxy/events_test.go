package proxy

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/siem"
)

// TestSecurityEventsOfRefusedTokensAndBreakGlass: a refused token and an
// emergency disclosure each queue one event with the request id and the
// caller; neither names the patient or the stated emergency.
func TestSecurityEventsOfRefusedTokensAndBreakGlass(t *testing.T) {
	t.Parallel()
	ev := &recEvents{}
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) { d.Events = ev })
	if resp, _ := h.get("/fhir/Condition/p2c", "not|a-token", "X-Request-Id", "bad-tok"); resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	bg := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth, d.Events = breakGlassAuth{}, ev
	})
	if resp, _ := bg.get("/fhir/Condition/p2c", "any", "X-Request-Id", "bg-1"); resp.StatusCode != 200 {
		t.Fatalf("break-glass read: %d", resp.StatusCode)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.evs) != 2 {
		t.Fatalf("events = %+v, want a refused token and a break-glass", ev.evs)
	}
	tok, glass := ev.evs[0], ev.evs[1]
	if tok.Kind != siem.KindTokenRefused || tok.RequestID != "bad-tok" || tok.Reason == "" {
		t.Errorf("token event = %+v", tok)
	}
	if glass.Kind != siem.KindBreakGlass || glass.RequestID != "bg-1" || glass.Subject != "dr-er" || glass.Org != "Organization/er" || glass.Count != 1 {
		t.Errorf("break-glass event = %+v", glass)
	}
	all := strings.ToLower(tok.Reason + glass.Reason + glass.Revision)
	if strings.Contains(all, "p1") || strings.Contains(all, "overdose") {
		t.Errorf("an event names the patient or the emergency: %+v %+v", tok, glass)
	}
}
