package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestRefrainNoAuthorizationQA41A (QA round 41, helper A, on d4d3cda): a
// result received with the refrain NOAUTH ("no disclosure without subject
// authorization": v3 ActCode RefrainPolicy, the patient's authorization
// required for any disclosure) and confidentiality N went to org-b, whom
// p1 never consented to (200), while the same result with NODSCLCD ("no
// disclosure without consent directive") is withheld. org-a, whom p1's
// consent names, still reads it.
func TestRefrainNoAuthorizationQA41A(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},` +
		`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"NOAUTH"},{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`
	h := newHarness(t, fhirJSONHandler(http.StatusOK, obs))
	if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "NOAUTH") {
		t.Errorf("consented: %d %s, want 200 with its refrain", resp.StatusCode, body)
	}
}
