package consent

import (
	"testing"
	"time"
)

// TestClockFromDateQA31F: a Date to the second, asked at sent and received
// at recv, puts the upstream's clock less this one's between date-recv and
// date+1s-sent; no Date is unknown.
func TestClockFromDateQA31F(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	recv := sent.Add(300 * time.Millisecond)
	date := sent.Add(-time.Minute).Truncate(time.Second)
	c := ClockFromDate(date, sent, recv)
	if !c.Known || c.Min != -time.Minute-300*time.Millisecond || c.Max != -time.Minute+time.Second {
		t.Errorf("clock %+v", c)
	}
	if c := ClockFromDate(time.Time{}, sent, recv); c.Known {
		t.Errorf("no Date: %+v, want unknown", c)
	}
}

// TestMergeClockedQA31F: of a local copy and an upstream copy of one
// consent, the later by the upstream's clock read through Clock wins; a
// near tie lets an upstream revocation win, and two active copies that
// differ both deny; a copy without meta.lastUpdated cannot be ordered.
// Compared as read, a proxy clock a minute ahead let a local permit
// outrank the revocation the EHR stored 20 s after it (QA round 31, area
// F).
func TestMergeClockedQA31F(t *testing.T) {
	t.Parallel()
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, WithClock(fixedClock(stored)))
	local, err := Normalize(mustPut(t, s, consentOf(t, "Patient/p1", "c1")))
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string { return stored.Add(d).Format(time.RFC3339Nano) }
	behind := Clock{Min: -time.Minute - time.Second, Max: -time.Minute + time.Second, Known: true} // the proxy a minute ahead
	revoked := edit(t, tpoConsent, `"status": "active"`, `"status": "inactive"`)
	narrower := edit(t, tpoConsent, `"Organization/x"`, `"Organization/y"`)
	tests := []struct {
		name     string
		upstream Normalized
		clock    Clock
		want     string
	}{
		{"a revocation 20 s later by the upstream's clock wins", upstreamCopy(t, revoked, "c1", "7", at(-40*time.Second)), behind,
			"[upstream:c1/inactive deny@0 permit@1]"},
		{"a narrower copy 20 s later wins", upstreamCopy(t, narrower, "c1", "7", at(-40*time.Second)), behind,
			"[upstream:c1/active deny@0 permit@1]"},
		{"a narrower copy 20 s earlier loses", upstreamCopy(t, narrower, "c1", "7", at(-80*time.Second)), behind,
			"[c1/active deny@0 permit@1]"},
		{"a revocation within a second wins the tie", upstreamCopy(t, revoked, "c1", "7", at(-time.Minute)), behind,
			"[upstream:c1/inactive deny@0 permit@1]"},
		{"a different active copy within a second: both deny", upstreamCopy(t, narrower, "c1", "7", at(-time.Minute)), behind,
			"[c1/active deny@0 upstream:c1/active deny@0]"},
		{"the same active copy within a second: the local one", upstreamCopy(t, tpoConsent, "c1", "7", at(-time.Minute)), behind,
			"[c1/active deny@0 permit@1]"},
		{"clock unknown: a narrower copy a minute earlier by its stamps is a tie", upstreamCopy(t, narrower, "c1", "7", at(-time.Minute)), Clock{},
			"[c1/active deny@0 upstream:c1/active deny@0]"},
		{"clock unknown: ten minutes apart is no tie", upstreamCopy(t, narrower, "c1", "7", at(10*time.Minute)), Clock{},
			"[upstream:c1/active deny@0 permit@1]"},
	}
	noStamp, err := NormalizeUpstream([]byte(edit(t, narrower, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "c1",`)))
	if err != nil {
		t.Fatal(err)
	}
	tests = append(tests, struct {
		name     string
		upstream Normalized
		clock    Clock
		want     string
	}{"an upstream copy without meta.lastUpdated cannot be ordered", noStamp, behind, "[c1/active deny@0 upstream:c1/active deny@0]"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged := MergeClocked([]Normalized{local}, []Normalized{tt.upstream}, tt.clock)
			if got := summary(merged); got != tt.want {
				t.Errorf("MergeClocked =\n %s\nwant\n %s", got, tt.want)
			}
			for _, n := range merged {
				if n.Unreadable && n.Version[len(n.Version)-len("+in-doubt"):] != "+in-doubt" {
					t.Errorf("%s: read as a denial, version %q", n.ID, n.Version)
				}
			}
		})
	}
}
