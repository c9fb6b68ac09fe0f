package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPersonUserUnboundRefusedQA43E (QA round 43, helper E): a token whose
// fhirUser names a RelatedPerson or a Person (a parent, a caregiver: SMART
// says such a user acts for a patient), with user/ scopes and no patient
// claim, was served unbound, as a clinician's: RelatedPerson/rp-7 read
// Patient/p2's Observation and searched p2's record (200). Such a token
// is refused (403, an OperationOutcome naming the patient claim it
// needs), in every spelling that counts as a person's; with a patient
// claim it is bound to that patient (p2's record is out of p1's
// compartment: 404); a clinician's token is served as before.
func TestPersonUserUnboundRefusedQA43E(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := verifiedHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Observation") {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+obs+`,"search":{"mode":"match"}}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, obs)(w, r)
	}, v)
	for _, c := range []struct {
		fhirUser, scope, patient string
		want                     int
	}{
		{"RelatedPerson/rp-7", "user/*.read", "", 403},
		{"RelatedPerson/rp-7", "user/Observation.rs", "", 403},
		{"Person/carer", "user/*.read", "", 403},
		{"https://other.example/fhir/RelatedPerson/rp-7", "user/*.read", "", 403},
		{"RelatedPerson/rp-7", "system/*.read", "", 403},
		{"RelatedPerson/rp-7", "patient/*.read", "p1", 404},
		{"Person/carer", "user/*.read", "p1", 404},
		{"Practitioner/dr-x", "user/*.read", "", 200},
	} {
		claims := patientPortalClaims(c.fhirUser, c.scope)
		if c.patient != "" {
			claims["patient"] = c.patient
		}
		tok := signDevClaims(t, key, "rel@portal", claims)
		for _, path := range []string{"/fhir/Observation/o2", "/fhir/Observation?patient=p2"} {
			resp, body := h.get(path, tok)
			if path != "/fhir/Observation/o2" && c.want == 404 {
				continue // a search outside the patient's compartment: refused or emptied, not at issue
			}
			if resp.StatusCode != c.want || strings.Contains(body, `"o2"`) != (c.want == 200) {
				t.Errorf("%s %s patient %q: %s: %d %.160s, want %d", c.fhirUser, c.scope, c.patient, path, resp.StatusCode, body, c.want)
			}
			if c.want == 403 && (!strings.Contains(body, `"OperationOutcome"`) || !strings.Contains(body, "patient claim")) {
				t.Errorf("%s: the refusal does not say what is needed: %s", c.fhirUser, body)
			}
		}
	}
}
