package proxy

import (
	"strings"
	"testing"
)

// TestPatientUserSpellings: jane's portal token (user/ scopes, no patient
// claim) whose fhirUser names her Patient in a spelling FHIRUserRef does
// not read was bound to no compartment and read p2's Observation (200).
// Each row is a spelling a round found; such a token is refused (403, or
// 401 for a fhirUser that is no string), never served unbound. Merged from
// the tests of QA rounds 39 to 42 (named in each row). Since QA round 42
// every fhirUser FHIRUserRef does not read is refused without a patient
// claim, whatever it says; with one the token is bound to it; the shapes
// identity providers send read as before.
func TestPatientUserSpellings(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, fhirJSONHandler(200, obs), v)
	type row struct {
		test     string // the test the row comes from
		fhirUser any
		scope    string
		want     int
		patient  string // the patient claim, if any
	}
	rows := []row{
		// A blank before the reference (a claim template's stray space):
		// NamesPatient read a type segment only at the start or after a
		// slash.
		{"TestPatientUserBlankSpellingQA39F", " Patient/p1", "user/*.read", 403, ""},
		{"TestPatientUserBlankSpellingQA39F", "\tPatient/p1", "user/*.read", 403, ""},
		{"TestPatientUserBlankSpellingQA39F", "\u00a0Patient/p1", "user/*.read", 403, ""},
		{"TestPatientUserBlankSpellingQA39F", " https://other.example/fhir/Patient/p1", "user/*.read", 403, ""},
		// Shapes no reading takes (a byte-order mark or zero-width space
		// before it, a blank before the slash, a urn, a full-width slash
		// or backslash, a doubly escaped slash, the type alone).
		{"TestPatientUserOddSpellingQA40A", "\ufeffPatient/p1", "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", "\u200bPatient/p1", "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", "Patient /p1", "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", "Patient\uff0fp1", "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", `Patient\p1`, "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", "urn:Patient:p1", "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", "patient%252Fp1", "user/*.read", 403, ""},
		{"TestPatientUserOddSpellingQA40A", "Patient", "user/*.read", 403, ""},
		// A format character inside the word, or the word in full-width
		// letters (05f09cf).
		{"TestPatientUserInvisibleInWordQA41A", "Pat\u200bient/p1", "user/*.read", 403, ""},
		{"TestPatientUserInvisibleInWordQA41A", "Pati\u00adent/p1", "user/*.read", 403, ""},
		{"TestPatientUserInvisibleInWordQA41A", "\uff30\uff41\uff54\uff49\uff45\uff4e\uff54/p1", "user/*.read", 403, ""},
		{"TestPatientUserInvisibleInWordQA41A", "Pat%E2%80%8Bient/p1", "user/*.read", 403, ""},
		// Other characters that show nothing inside the word (a combining
		// grapheme joiner, a variation selector, a Hangul filler: 3b2fdc4).
		{"TestPatientUserIgnorableInWordQA41G", "Pat\u034fient/p1", "user/*.read", 403, ""},
		{"TestPatientUserIgnorableInWordQA41G", "Pati\ufe0fent/p1", "user/*.read", 403, ""},
		{"TestPatientUserIgnorableInWordQA41G", "Pa\u3164tient/p1", "user/*.read", 403, ""},
		{"TestPatientUserIgnorableInWordQA41G", "Pat%CD%8Fient/p1", "user/*.read", 403, ""},
		// A clinician's unreadable fhirUser is refused too since QA round
		// 42 (helper E; the three tests asserted 200 alike before).
		{"TestPatientUserOddSpellingQA40A, QA41A, QA41G", "urn:oid:1.2.3|dr-er", "user/*.read", 403, ""},
		// Letters folding did not reach (look-alikes, mathematical,
		// circled, double-struck) and a clinician's odd spellings: QA
		// round 42, helper E (TestPatientUserUnreadFHIRUserRefusedQA42E's
		// rows, labelled QA42E).
		{"QA42E", "P\u0430tient/p1", "user/*.read", 403, ""},
		{"QA42E", "Pat\u0456ent/p1", "user/*.read", 403, ""},
		{"QA42E", "\u03a1atient/p1", "user/*.read", 403, ""},
		{"QA42E", "\U0001d40f\U0001d41a\U0001d42d\U0001d422\U0001d41e\U0001d427\U0001d42d/p1", "user/*.read", 403, ""},
		{"QA42E", "\u24c5atient/p1", "user/*.read", 403, ""},
		{"QA42E", "\u2119atient/p1", "user/*.read", 403, ""},
		{"QA42E", "P%D0%B0tient/p1", "user/*.read", 403, ""},
		{"QA42E", "practitioner/dr-x", "user/*.read", 403, ""},
		{"QA42E", "Practitioner/dr-x/_history/2", "user/*.read", 403, ""},
		// With a patient claim, bound to it: p2's record is out of p1's
		// compartment, not refused.
		{"QA42E", "P\u0430tient/p1", "patient/*.read", 404, "p1"},
		// Epic's, Cerner's, a SMART launcher's, Medplum's or Keycloak's
		// shapes, and a padded one (0a9a60b), read as before.
		{"QA42E", "https://fhir.epic.com/interconnect-fhir-oauth/api/FHIR/R4/Practitioner/eM5CWtq15N0WJeuCet5bJlQ3", "user/*.read", 200, ""},
		{"QA42E", "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d/Practitioner/12742069", "user/*.read", 200, ""},
		{"QA42E", "Practitioner/smart-Practitioner-71482713", "user/*.read", 200, ""},
		{"QA42E", "Practitioner/0a3d7f2e-6c1b-4f4e-9d51-2b8e5c7a9f10", "user/*.read", 200, ""},
		{"QA42E", "PractitionerRole/r-9", "user/*.read", 200, ""},
		{"QA42E", " Practitioner/dr-x", "user/*.read", 200, ""},
		// A RelatedPerson acts for a patient: unbound, it read p2's record
		// as a clinician would (200) until QA round 43 (helper E,
		// TestPersonUserUnboundRefusedQA43E); refused without a patient
		// claim, bound with one.
		{"QA43E", "RelatedPerson/rp-7", "user/*.read", 403, ""},
		{"QA43E", "RelatedPerson/rp-7", "user/*.read", 404, "p1"},
		{"QA42E", "Patient/p1", "user/*.read", 404, ""},
		{"QA42E", "https://other.example/fhir/Patient/p1", "user/*.read", 403, ""},
	}
	// A fhirUser written as a JSON array or object (an IdP's multivalued
	// claim mapper) is refused (401), as a patient claim that is no id
	// is; the string one is bound to p1 (404).
	for _, scope := range []string{"user/*.read", "user/Observation.rs"} {
		const test = "TestNonStringFHIRUserRefusedQA39F"
		rows = append(rows, row{test, "Patient/p1", scope, 404, ""},
			row{test, []any{"Patient/p1"}, scope, 401, ""},
			row{test, map[string]any{"reference": "Patient/p1"}, scope, 401, ""},
			row{test, []any{"RelatedPerson/mother"}, scope, 401, ""})
	}
	for _, r := range rows {
		claims := patientPortalClaims(r.fhirUser, r.scope)
		if r.patient != "" {
			claims["patient"] = r.patient
		}
		resp, body := h.get("/fhir/Observation/o2", signDevClaims(t, key, "jane@portal", claims))
		if resp.StatusCode != r.want || strings.Contains(body, `"o2"`) != (r.want == 200) {
			t.Errorf("%s: fhirUser %#v, %s, patient claim %q: %d %.120s, want %d", r.test, r.fhirUser, r.scope, r.patient, resp.StatusCode, body, r.want)
		}
	}
}
