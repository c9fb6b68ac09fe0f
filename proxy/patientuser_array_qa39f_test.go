package proxy

import (
	"strings"
	"testing"
)

// TestNonStringFHIRUserRefusedQA39F: a patient's token whose fhirUser is
// written as a JSON array or object (an IdP claim mapper set to
// multivalued writes ["Patient/p1"]) was read as having no fhirUser, so it
// was no patient user and bindPatientUser never bound it: with user/
// scopes and no patient claim, jane's login (Patient/p1) read p2's
// Observation (200), where the same token with a string fhirUser is bound
// to p1 (404). Such a claim is refused (401), as a patient claim that is
// no id is; a string one works as before.
func TestNonStringFHIRUserRefusedQA39F(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser any, scope string) string {
		return signDevClaims(t, key, "jane@portal", patientPortalClaims(fhirUser, scope))
	}
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	for _, sc := range []string{"user/*.read", "user/Observation.rs"} {
		if resp, body := h.get("/fhir/Observation/o2", mint("Patient/p1", sc)); resp.StatusCode != 404 || strings.Contains(body, `"o2"`) {
			t.Fatalf("string fhirUser Patient/p1, %s: %d %s, want 404 (bound to p1)", sc, resp.StatusCode, body)
		}
		for _, fu := range []any{[]any{"Patient/p1"}, map[string]any{"reference": "Patient/p1"}, []any{"RelatedPerson/mother"}} {
			if resp, body := h.get("/fhir/Observation/o2", mint(fu, sc)); resp.StatusCode != 401 || strings.Contains(body, `"o2"`) {
				t.Errorf("fhirUser %#v, %s: %d %.120s, want 401", fu, sc, resp.StatusCode, body)
			}
		}
	}
}
