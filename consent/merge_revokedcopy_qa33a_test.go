package consent

import (
	"strings"
	"testing"
	"time"
)

// TestMergeRevokedCopyBesideAnActiveOneQA33A: a local consent (c1, active,
// permitting Organization/x) has two upstream copies, as an EHR holding
// the consent twice has: c0, an active copy under another id with the same
// Consent.identifier, stored an hour before the local one, and c1 itself,
// which the EHR revoked 20 s after the local one was stored. Alone, the
// revoked c1 wins over the local copy. Beside c0, the first copy found
// (ids sorted) was the active c0, further copies were paired only when
// active, and the revocation went to the policy as an inactive consent of
// its own, read by no one: the local copy, later than c0, won whole and
// Organization/x was permitted. The same when both copies were revoked
// or withdrawn at different times and the older one was found first.
func TestMergeRevokedCopyBesideAnActiveOneQA33A(t *testing.T) {
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
	later := stored.Add(20 * time.Second).Format(time.RFC3339)
	inactive := edit(t, withIdent, `"status": "active",`, `"status": "inactive",`)
	activeOld := upstreamCopy(t, withIdent, "c0", "3", older)
	revokedLater := upstreamCopy(t, inactive, "c1", "4", later)
	revokedOld := upstreamCopy(t, inactive, "c7", "2", older)
	withdrawnLater, ok := Withdrawn([]byte(edit(t, inactive, `"resourceType": "Consent",`,
		`"resourceType": "Consent", "id": "c1", "meta": {"versionId": "4", "lastUpdated": "`+later+`"},`)))
	if !ok {
		t.Fatal("Withdrawn: not read")
	}
	permitsX := func(merged []Normalized) bool {
		for _, n := range merged {
			if n.Status != "active" {
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
	if !permitsX([]Normalized{local}) {
		t.Fatal("fixture changed: the local copy does not permit Organization/x")
	}
	if got := MergeClocked([]Normalized{local}, []Normalized{revokedLater}, Clock{}); permitsX(got) {
		t.Fatalf("the revoked copy alone: %s permits Organization/x", summary(got))
	}
	for name, up := range map[string][]Normalized{
		"an active older copy, then the revoked one": {activeOld, revokedLater},
		"an active older copy, then a withdrawn one": {activeOld, withdrawnLater},
		"a revoked older copy, then the revoked one": {revokedOld, revokedLater},
		"the revoked one, then an active older copy": {revokedLater, activeOld},
	} {
		if got := MergeClocked([]Normalized{local}, up, Clock{}); permitsX(got) {
			t.Errorf("%s: %s permits Organization/x, which the EHR revoked after the local copy was stored", name, summary(got))
		}
	}
	// A copy revoked before the local one was stored does not undo it.
	if got := MergeClocked([]Normalized{local}, []Normalized{activeOld, revokedOld}, Clock{}); !permitsX(got) {
		t.Errorf("a copy revoked an hour before the local one: %s permits nothing", summary(got))
	}
}
