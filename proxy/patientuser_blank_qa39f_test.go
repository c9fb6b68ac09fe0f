package proxy

import (
	"strings"
	"testing"
)

// TestPatientUserBlankSpellingQA39F: a patient's token whose fhirUser has a
// blank before the reference (" Patient/p1", "\tPatient/p1": a claim
// template's stray space) was no patient user (NamesPatient read a type
// segment only at the start or after a slash), so bindPatientUser left it
// unbound: with user/ scopes and no patient claim, jane's login read p2's
// Observation (200). It is a patient user now, refused unless a patient
// claim binds it (403), as "Patient/p1/" and "patient%2fp1" are.
func TestPatientUserBlankSpellingQA39F(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string {
		return signDevClaims(t, key, "jane@portal", patientPortalClaims(fhirUser, "user/*.read"))
	}
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	for _, fu := range []string{" Patient/p1", "\tPatient/p1", "\u00a0Patient/p1", " https://other.example/fhir/Patient/p1"} {
		if resp, body := h.get("/fhir/Observation/o2", mint(fu)); resp.StatusCode != 403 || strings.Contains(body, `"o2"`) {
			t.Errorf("fhirUser %q, no patient claim: %d %.120s, want 403", fu, resp.StatusCode, body)
		}
	}
}
