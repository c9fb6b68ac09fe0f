package proxy

import (
	"strings"
	"testing"
)

// TestPatientUserIgnorableInWordQA41G (QA round 41, helper G, on 05f09cf):
// foldClaim drops format characters (Cf) from a fhirUser before looking
// for "patient", but not the other characters that show nothing: a
// combining grapheme joiner, a variation selector, a Hangul filler
// (default-ignorable code points, which trimBlank of 0c07460 drops) inside
// the word still hid it, and jane's portal token (user/*.read, no patient
// claim) was bound to no compartment and read p2's Observation (200).
func TestPatientUserIgnorableInWordQA41G(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string {
		return signDevClaims(t, key, "jane@portal", patientPortalClaims(fhirUser, "user/*.read"))
	}
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	for _, fu := range []string{"Pat\u034fient/p1", "Pati\ufe0fent/p1", "Pa\u3164tient/p1", "Pat%CD%8Fient/p1"} {
		if resp, body := h.get("/fhir/Observation/o2", mint(fu)); resp.StatusCode != 403 || strings.Contains(body, `"o2"`) {
			t.Errorf("fhirUser %q, no patient claim: %d %.120s, want 403", fu, resp.StatusCode, body)
		}
	}
	// A clinician's unreadable one too, since QA round 42 (helper E): no
	// reading names whom it names.
	if resp, body := h.get("/fhir/Observation/o2", mint("urn:oid:1.2.3|dr-er")); resp.StatusCode != 403 || strings.Contains(body, `"o2"`) {
		t.Errorf("a clinician's unreadable fhirUser: %d %.120s, want 403", resp.StatusCode, body)
	}
}
