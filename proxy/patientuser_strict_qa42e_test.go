package proxy

import (
	"strings"
	"testing"
)

// TestPatientUserUnreadFHIRUserRefusedQA42E: the patient-user fallback
// took a fhirUser no reading names a type of as a patient's when
// "patient" could be found in it, folded (05f09cf, 3b2fdc4): a list of
// spellings. jane's portal token (user/*.read, no patient claim) whose
// fhirUser hid the word in letters folding does not reach (a Cyrillic or
// Greek look-alike, mathematical, circled or double-struck letters) was
// bound to no compartment and read p2's Observation (200). Without a
// patient context every fhirUser FHIRUserRef cannot read binds to nothing
// and is refused (403); with one the token is bound to its patient claim.
// The shapes identity providers send (Epic's and Cerner's absolute URLs,
// a SMART launcher's, Medplum's and Keycloak's relative references) read
// as before.
func TestPatientUserUnreadFHIRUserRefusedQA42E(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	read := func(claims map[string]any) (int, string) {
		resp, body := h.get("/fhir/Observation/o2", signDevClaims(t, key, "jane@portal", claims))
		return resp.StatusCode, body
	}
	for _, fu := range []string{
		"P\u0430tient/p1", // Cyrillic a
		"Pat\u0456ent/p1", // Cyrillic i
		"\u03a1atient/p1", // Greek capital rho
		"\U0001d40f\U0001d41a\U0001d42d\U0001d422\U0001d41e\U0001d427\U0001d42d/p1", // mathematical bold
		"\u24c5atient/p1",              // circled P
		"\u2119atient/p1",              // double-struck P
		"P%D0%B0tient/p1",              // a Cyrillic a, escaped
		"urn:oid:1.2.3|dr-er",          // says nothing of what it names
		"practitioner/dr-x",            // a type in another case
		"Practitioner/dr-x/_history/2", // a version
	} {
		if code, body := read(patientPortalClaims(fu, "user/*.read")); code != 403 || strings.Contains(body, `"o2"`) {
			t.Errorf("fhirUser %q, no patient claim: %d %.120s, want 403", fu, code, body)
		}
	}
	// With a patient context the token is bound to it: p2's record is
	// out of p1's compartment, not refused.
	claims := patientPortalClaims("P\u0430tient/p1", "patient/*.read")
	claims["patient"] = "p1"
	if code, body := read(claims); code != 404 || strings.Contains(body, `"o2"`) {
		t.Errorf("an unread fhirUser with patient claim p1: %d %.120s, want 404", code, body)
	}
	for _, fu := range []string{
		"https://fhir.epic.com/interconnect-fhir-oauth/api/FHIR/R4/Practitioner/eM5CWtq15N0WJeuCet5bJlQ3",
		"https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d/Practitioner/12742069",
		"Practitioner/smart-Practitioner-71482713",
		"Practitioner/0a3d7f2e-6c1b-4f4e-9d51-2b8e5c7a9f10",
		"PractitionerRole/r-9",
		" Practitioner/dr-x", // trimmed (0a9a60b)
	} {
		claims := patientPortalClaims(fu, "user/*.read")
		claims["purpose_of_use"] = "TREAT"
		if code, body := read(claims); code != 200 || !strings.Contains(body, `"o2"`) {
			t.Errorf("a clinician's fhirUser %q: %d %.120s, want 200", fu, code, body)
		}
	}
	for fu, want := range map[string]int{"Patient/p1": 404, "RelatedPerson/rp-7": 200, "https://other.example/fhir/Patient/p1": 403} {
		if code, body := read(patientPortalClaims(fu, "user/*.read")); code != want {
			t.Errorf("fhirUser %q: %d %.120s, want %d as before", fu, code, body, want)
		}
	}
}
