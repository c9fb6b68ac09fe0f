package consent

import (
	"strings"
	"testing"
	"time"
)

// TestMergeEveryUpstreamCopyQA32A: copies of one consent are paired by id
// or by a shared Consent.identifier (Merge), but a local copy was paired
// with the first upstream copy alone. An EHR holding the consent twice
// (its own id, and another id with the same identifier, as an import
// makes) had the second copy go to the policy whole: the local revocation,
// or the local copy's narrowing, was undone by it and the older, wider
// permit applied. While the local copy is active the three cannot be
// ordered, and the active ones are read as a denial.
func TestMergeEveryUpstreamCopyQA32A(t *testing.T) {
	t.Parallel()
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, WithClock(fixedClock(stored)))
	const ident = `"identifier": [{"system": "urn:example:consents", "value": "42"}],`
	withIdent := edit(t, tpoConsent, `"status": "active",`, `"status": "active", `+ident)
	local, err := Normalize(mustPut(t, s, edit(t, edit(t, withIdent, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "c1",`),
		`"Organization/x"`, `"Organization/y"`)))
	if err != nil {
		t.Fatal(err)
	}
	revokedRec, _, err := s.Revoke(t.Context(), "c1", "")
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := Normalize(revokedRec)
	if err != nil {
		t.Fatal(err)
	}
	older := stored.Add(-time.Hour).Format(time.RFC3339)
	same := upstreamCopy(t, withIdent, "c1", "3", older)
	other := upstreamCopy(t, withIdent, "c9", "3", older)
	for name, l := range map[string]Normalized{"narrowed": local, "revoked": revoked} {
		merged := MergeClocked([]Normalized{l}, []Normalized{same, other}, Clock{})
		for _, n := range merged {
			if n.Status != "active" {
				continue
			}
			for _, r := range n.Rules {
				for _, c := range r.Conditions {
					if r.Type == "permit" && strings.Contains(strings.Join(c.Actors, " "), "Organization/x") {
						t.Errorf("%s locally: %s permits Organization/x: %s", name, n.ID, summary(merged))
					}
				}
			}
		}
	}
	// A second copy that is not active grants nothing: the local copy,
	// later than the first, still wins whole.
	oldCopy := upstreamCopy(t, edit(t, withIdent, `"status": "active",`, `"status": "inactive",`), "c9", "3", older)
	if got := summary(MergeClocked([]Normalized{local}, []Normalized{same, oldCopy}, Clock{})); got != "[c1/active deny@0 permit@1 upstream:c9/inactive deny@0 permit@1]" {
		t.Errorf("a second copy inactive: %s", got)
	}
}
