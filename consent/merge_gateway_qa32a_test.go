package consent

import (
	"testing"
	"time"
)

// TestMergeGatewayClockAheadQA32A: the Date that measures the upstream's
// clock (bc4e66f) may be a gateway's (nginx sets its own), as fcf0e50 says
// of one behind the FHIR server. A gateway a minute ahead of the server is
// not told by any stamp lying past the Date: the EHR's revocation stored
// 20 s after the local permit, by the server's clock and this process's
// (which agree), was read by the gateway's as 40 s before it, and the
// local permit won: org-a read what the patient had revoked. Copies whose
// order the Date's clock and agreeing clocks tell differently are in
// doubt: the revocation wins, and two active copies that differ both deny.
func TestMergeGatewayClockAheadQA32A(t *testing.T) {
	t.Parallel()
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, WithClock(fixedClock(stored)))
	local, err := Normalize(mustPut(t, s, consentOf(t, "Patient/p1", "c1")))
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string { return stored.Add(d).Format(time.RFC3339Nano) }
	// Asked at stored+30s: the gateway's Date reads a minute ahead.
	asked := stored.Add(30 * time.Second)
	gatewayAhead := ClockFromDate(asked.Add(time.Minute).Truncate(time.Second), asked, asked.Add(200*time.Millisecond))
	revoked := edit(t, tpoConsent, `"status": "active"`, `"status": "inactive"`)
	narrower := edit(t, tpoConsent, `"Organization/x"`, `"Organization/y"`)
	for _, tt := range []struct {
		name     string
		upstream Normalized
		want     string
	}{
		{"a revocation 20 s after the local permit wins", upstreamCopy(t, revoked, "c1", "7", at(20*time.Second)),
			"[upstream:c1/inactive deny@0 permit@1]"},
		{"a narrower copy 20 s after the local one: both deny", upstreamCopy(t, narrower, "c1", "7", at(20*time.Second)),
			"[c1/active deny@0 upstream:c1/active deny@0]"},
		{"a narrower copy ten minutes before the local one loses", upstreamCopy(t, narrower, "c1", "7", at(-10*time.Minute)),
			"[c1/active deny@0 permit@1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			merged := MergeClocked([]Normalized{local}, []Normalized{tt.upstream}, gatewayAhead)
			if got := summary(merged); got != tt.want {
				t.Errorf("MergeClocked =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}
