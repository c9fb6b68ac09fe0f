package proxy

import (
	"strings"
	"testing"
)

// TestPersonBreakGlassIgnoredInAnySpellingQA39B: a RelatedPerson's or a
// Person's emergency claim is ignored (7eabfb5) whatever the spelling of
// its fhirUser: one of another server, or one FHIRUserRef cannot read, is
// still someone acting for a patient, not medical personnel.
func TestPersonBreakGlassIgnoredInAnySpellingQA39B(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string { return signDevClaims(t, key, "someone", emergencyClaims(fhirUser)) }
	h := verifiedHarness(t, fhirJSONHandler(200, part2Condition), v)
	for _, who := range []string{
		"https://other.example/fhir/RelatedPerson/mother",
		"https://other.example/fhir/Person/carer",
		"RelatedPerson/mother/",
		"RelatedPerson/mother/_history/1",
		"Person/carer?x=1",
		"relatedperson/mother",
	} {
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 404 || strings.Contains(body, "F11.20") {
			t.Errorf("%s's emergency claim: %d %s, want 404", who, resp.StatusCode, body)
		}
	}
	for _, e := range h.ledger.entries {
		if e.BreakGlass != nil {
			t.Errorf("ledger records a 2.51 disclosure to a related person: %+v", e.BreakGlass)
		}
	}
	// A clinician's claim still counts, of another server too, and a
	// base whose path holds "person" names no person.
	for _, who := range []string{"https://other.example/fhir/Practitioner/dr-er", "https://h.example/person/fhir/PractitionerRole/er"} {
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
			t.Errorf("%s's emergency claim in the patient's context: %d %s", who, resp.StatusCode, body)
		}
	}
}
