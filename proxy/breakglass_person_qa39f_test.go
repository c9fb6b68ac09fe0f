package proxy

import (
	"strings"
	"testing"
)

// TestPersonBreakGlassOddClaimQA39F: a fhirUser that names a RelatedPerson
// in a shape no reading of the proxy's takes (not a string: a JSON array
// or object an IdP's claim mapper writes; a leading blank, a urn, a
// doubly escaped or full-width slash) left Caller.PersonUser false, so an
// ETREAT token with a reason read p1's Part 2 Condition (200) by the 42
// CFR 2.51 rule and recorded a medical-emergency disclosure to a
// caregiver (7bc6e08 covers the spellings a type segment reads). Such a
// claim is no one the proxy knows to be medical personnel: the emergency
// claim is ignored (404). A clinician's claim, a practitioner's spelling
// FHIRUserRef cannot read, and a token with no fhirUser keep theirs.
func TestPersonBreakGlassOddClaimQA39F(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser any) string { return signDevClaims(t, key, "someone", emergencyClaims(fhirUser)) }
	h := verifiedHarness(t, fhirJSONHandler(200, part2Condition), v)
	for _, who := range []any{
		[]any{"RelatedPerson/mother"},
		[]any{"https://other.example/fhir/Person/carer"},
		map[string]any{"reference": "RelatedPerson/mother"},
		" RelatedPerson/mother",
		"urn:RelatedPerson:mother",
		"RelatedPerson%252Fmother",
		"RelatedPerson／mother",
	} {
		// 404, or 401 where the token is refused outright (a fhirUser
		// that is no string)
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 404 && resp.StatusCode != 401 || strings.Contains(body, "F11.20") {
			t.Errorf("%#v's emergency claim: %d %.120s, want 404", who, resp.StatusCode, body)
		}
	}
	for _, e := range h.ledger.entries {
		if e.BreakGlass != nil {
			t.Errorf("ledger records a 2.51 disclosure to someone not known as medical personnel: %+v", e.BreakGlass)
		}
	}
	for _, who := range []any{nil, "Practitioner/dr-er", "https://other.example/fhir/Practitioner/dr-er/_history/2"} {
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
			t.Errorf("%#v's emergency claim in the patient's context: %d %.120s", who, resp.StatusCode, body)
		}
	}
}
