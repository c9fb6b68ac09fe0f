package consent

import (
	"strings"
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
		{"a narrower copy 20 s later by the upstream's clock, 40 s earlier by agreeing clocks: both deny (QA round 32, area A)",
			upstreamCopy(t, narrower, "c1", "7", at(-40*time.Second)), behind,
			"[c1/active deny@0 upstream:c1/active deny@0]"},
		{"a narrower copy 70 s later wins", upstreamCopy(t, narrower, "c1", "7", at(10*time.Second)), behind,
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

// TestOneEachTieQA31F: two active versions of one upstream consent with
// the same meta.lastUpdated and versionIds that are not numbers (Medplum's
// UUIDs) cannot be ordered by the server's word. The one listed first won
// whole (and, stamps tied, the author's dateTime decided), so an older,
// wider permit could outrank the narrower version that replaced it; both
// are now read as a denial, whatever the order or the dateTime. Versions
// that say the same keep the first; a withdrawal still wins a tie.
func TestOneEachTieQA31F(t *testing.T) {
	t.Parallel()
	version := func(raw, v, dateTime string) Normalized {
		raw = edit(t, raw, `"dateTime": "2026-02-16"`, `"dateTime": "`+dateTime+`"`)
		return upstreamCopy(t, raw, "u1", v, "2026-03-01T00:00:00Z")
	}
	const a, b = "0d4b5f6e-1111-4c1e-9a6e-00000000000a", "0d4b5f6e-1111-4c1e-9a6e-00000000000b"
	wide := version(tpoConsent, a, "2026-02-16")
	narrow := version(edit(t, tpoConsent, `"Organization/x"`, `"Organization/y"`), b, "2026-02-16")
	narrowDatedAhead := version(edit(t, tpoConsent, `"Organization/x"`, `"Organization/y"`), b, "2026-01-01")
	same := version(tpoConsent, b, "2026-02-16")
	rawRevoked := edit(t, edit(t, tpoConsent, `"status": "active"`, `"status": "inactive"`), `"resourceType": "Consent",`,
		`"resourceType": "Consent", "id": "u1", "meta": {"versionId": "`+b+`", "lastUpdated": "2026-03-01T00:00:00Z"},`)
	revoked, ok := Withdrawn([]byte(rawRevoked))
	if !ok {
		t.Fatal("not withdrawn")
	}
	permits := func(ns []Normalized) int {
		c := 0
		for _, n := range ns {
			for _, r := range n.Rules {
				if r.Type == "permit" {
					c++
				}
			}
		}
		return c
	}
	tests := []struct {
		name        string
		list        []Normalized
		wantKept    int // index kept
		wantPermits int // among the kept (not gone) and the denies
	}{
		{"wide listed first", []Normalized{wide, narrow}, 0, 0},
		{"narrow listed first", []Normalized{narrow, wide}, 0, 0},
		{"stamps tied, the wide one dated later", []Normalized{narrowDatedAhead, wide}, 0, 0},
		{"the same said twice", []Normalized{wide, same}, 0, 1},
		{"a withdrawal wins the tie", []Normalized{wide, revoked}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := append([]Normalized(nil), tt.list...)
			keep, denies := OneEach(list)
			if len(keep) != 1 || keep[0] != tt.wantKept {
				t.Fatalf("kept %v, want [%d]", keep, tt.wantKept)
			}
			var kept []Normalized
			if !list[keep[0]].Gone() {
				kept = append(kept, list[keep[0]])
			}
			if got := permits(append(kept, denies...)); got != tt.wantPermits {
				t.Errorf("%d permits go to the policy, want %d: %s %s", got, tt.wantPermits, summary(kept), summary(denies))
			}
			for _, d := range denies {
				if !d.DenyOnly || !strings.HasPrefix(d.ID, "upstream:u1/_history/") {
					t.Errorf("reading %s deny-only %v", d.ID, d.DenyOnly)
				}
			}
			if tt.wantPermits == 0 && tt.wantKept == 0 && (len(denies) != 1 || !list[0].Unreadable || !denies[0].Unreadable) {
				t.Errorf("in doubt, each version is read as a denial: kept %s, denies %s", summary(kept), summary(denies))
			}
		})
	}
}

// TestMergeWithdrawnCopyQA31F: an upstream copy read and left out
// (Withdrawn: revoked, and failing validation) is a copy that is not
// active: stored later it wins and goes to no policy (the local permit
// with it), stored earlier it loses; it is never given to the policy.
func TestMergeWithdrawnCopyQA31F(t *testing.T) {
	t.Parallel()
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, WithClock(fixedClock(stored)))
	local, err := Normalize(mustPut(t, s, consentOf(t, "Patient/p1", "c1")))
	if err != nil {
		t.Fatal(err)
	}
	withdrawn := func(updated string) Normalized {
		raw := edit(t, edit(t, edit(t, tpoConsent, `"status": "active"`, `"status": "inactive"`), `"actor"`, `"actors"`),
			`"resourceType": "Consent",`, `"resourceType": "Consent", "id": "c1", "meta": {"versionId": "7", "lastUpdated": "`+updated+`"},`)
		if _, err := NormalizeUpstream([]byte(raw)); err == nil {
			t.Fatal("the copy is valid")
		}
		w, ok := Withdrawn([]byte(raw))
		if !ok {
			t.Fatal("not withdrawn")
		}
		return w
	}
	clock := Clock{Min: -time.Second, Max: time.Second, Known: true}
	if got := summary(MergeClocked([]Normalized{local}, []Normalized{withdrawn("2026-03-01T13:00:00Z")}, clock)); got != "[]" {
		t.Errorf("revoked an hour later: %s, want []", got)
	}
	if got := summary(MergeClocked([]Normalized{local}, []Normalized{withdrawn("2026-03-01T11:00:00Z")}, clock)); got != "[c1/active deny@0 permit@1]" {
		t.Errorf("revoked an hour earlier: %s, want the local copy", got)
	}
	if got := summary(MergeClocked(nil, []Normalized{withdrawn("2026-03-01T13:00:00Z")}, clock)); got != "[]" {
		t.Errorf("alone: %s, want []", got)
	}
}
