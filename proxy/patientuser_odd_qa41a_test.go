package proxy

import (
	"strings"
	"testing"
)

// TestPatientUserInvisibleInWordQA41A (QA round 41, helper A, on c564a53):
// the fallback takes a fhirUser no reading names a type of as a patient's
// when it says "patient", but a zero-width space or a soft hyphen inside
// the word, or the word in full-width letters (the full-width slash of
// QA round 40 in its letters), hid it: jane's portal token (user/*.read,
// no patient claim) was bound to no compartment and read p2's Observation
// (200). Format characters are dropped and full-width forms read as ASCII
// before the word is looked for.
func TestPatientUserInvisibleInWordQA41A(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string {
		return signDevClaims(t, key, "jane@portal", patientPortalClaims(fhirUser, "user/*.read"))
	}
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	for _, fu := range []string{"Pat\u200bient/p1", "Pati\u00adent/p1", "\uff30\uff41\uff54\uff49\uff45\uff4e\uff54/p1", "Pat%E2%80%8Bient/p1"} {
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
