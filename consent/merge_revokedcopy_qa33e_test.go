package consent

import (
	"strings"
	"testing"
	"time"
)

// TestMergeOlderRevokedCopyFirstQA33E (QA round 33, area E, on 60acde3):
// a copy revoked an hour before the local consent was stored changes
// nothing beside an active older copy when that active copy is found
// first; found first itself (its id sorts first: "a7" before "c0"), it
// was paired as the local copy's match and the active older copy became a
// further active copy, so the local copy and the active one were both
// read as a denial: the local permit, the patient's last word, was lost.
// Over-withholding only.
func TestMergeOlderRevokedCopyFirstQA33E(t *testing.T) {
	t.Parallel()
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, WithClock(fixedClock(stored)))
	const ident = `"identifier": [{"system": "urn:example:consents", "value": "42"}],`
	withIdent := edit(t, tpoConsent, `"status": "active",`, `"status": "active", `+ident)
	local, err := Normalize(mustPut(t, s, edit(t, withIdent, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "c1",`)))
	if err != nil {
		t.Fatal(err)
	}
	older := stored.Add(-time.Hour).Format(time.RFC3339)
	inactive := edit(t, withIdent, `"status": "active",`, `"status": "inactive",`)
	activeOld := upstreamCopy(t, withIdent, "c0", "3", older)
	revokedOld := upstreamCopy(t, inactive, "a7", "2", older)
	permitsX := func(merged []Normalized) bool {
		for _, n := range merged {
			if n.Status != "active" || n.DenyOnly {
				continue
			}
			for _, r := range n.Rules {
				for _, c := range r.Conditions {
					if r.Type == "permit" && strings.Contains(strings.Join(c.Actors, " "), "Organization/x") {
						return true
					}
				}
			}
		}
		return false
	}
	if got := MergeClocked([]Normalized{local}, []Normalized{activeOld}, Clock{}); !permitsX(got) {
		t.Fatalf("fixture: the local copy beside the older active one: %s permits nothing", summary(got))
	}
	if got := MergeClocked([]Normalized{local}, []Normalized{revokedOld, activeOld}, Clock{}); !permitsX(got) {
		t.Errorf("an older revoked copy found first: %s permits nothing, as without it the local copy does", summary(got))
	}
}
