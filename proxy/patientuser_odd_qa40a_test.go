package proxy

import (
	"strings"
	"testing"
)

// TestPatientUserOddSpellingQA40A: a patient's token whose fhirUser names
// the Patient in a shape no reading of the proxy's takes (a byte-order mark
// or a zero-width space a claim template left before it, a blank before
// the slash, a urn, a full-width slash or backslash, a doubly escaped
// slash, the type alone) was no patient user: b418ba7 took such a claim as
// a person's (its emergency claim ignored) but bindPatientUser left the
// token unbound, and with user/ scopes and no patient claim jane's login
// read p2's Observation (200). It is a patient user now, refused unless a
// patient claim binds it (403), as " Patient/p1" is. So is a clinician's
// odd claim since QA round 42 (helper E).
func TestPatientUserOddSpellingQA40A(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string {
		return signDevClaims(t, key, "jane@portal", patientPortalClaims(fhirUser, "user/*.read"))
	}
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	for _, fu := range []string{"\ufeffPatient/p1", "\u200bPatient/p1", "Patient /p1", "Patient\uff0fp1", `Patient\p1`, "urn:Patient:p1", "patient%252Fp1", "Patient"} {
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
