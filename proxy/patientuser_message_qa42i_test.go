package proxy

import (
	"strings"
	"testing"
)

// TestUnreadFHIRUserRefusalNamesTheTypesQA42I (QA round 42, helper I):
// since 143fb87 a token with no patient claim whose fhirUser FHIRUserRef
// does not read is refused (403). fhirUser Device/d1 or Organization/org-b
// (a plain Type/ID, of a type SMART's fhirUser does not name) was told "its
// fhirUser must be a plain reference (Type/ID, or a URL of one ...)", which
// it is: the operator reading it could not tell what to change. The
// refusal now names the types a fhirUser may be.
func TestUnreadFHIRUserRefusalNamesTheTypesQA42I(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	h := verifiedHarness(t, fhirJSONHandler(200, `{"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/p2"}}`), v)
	for _, fu := range []string{"Device/d1", "Organization/org-b", "practitioner/dr-x"} {
		resp, body := h.get("/fhir/Observation/o2", signDevClaims(t, key, "svc", patientPortalClaims(fu, "user/*.read")))
		if resp.StatusCode != 403 {
			t.Fatalf("fhirUser %s: %d %.200s, want 403", fu, resp.StatusCode, body)
		}
		if !strings.Contains(body, "Patient, Practitioner, PractitionerRole, RelatedPerson or Person") {
			t.Errorf("fhirUser %s: the refusal does not say which types a fhirUser may name: %s", fu, body)
		}
	}
}
