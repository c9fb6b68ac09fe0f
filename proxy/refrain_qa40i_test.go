package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestReceivedNoRedisclosureWithheldQA40I (QA round 40, area I; E's
// proposal P-2): a result this site received under a consent, stored as
// its sender labelled it (refrain NORDSCLCD, "no redisclosure without the
// patient's consent", and N), went to org-b, whom p1 never consented to,
// as ordinary data (200). Withheld now as any restricted item without
// consent; org-a, whom p1's consent names, still reads it.
func TestReceivedNoRedisclosureWithheldQA40I(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},` +
		`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"NORDSCLCD"},{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`
	h := newHarness(t, fhirJSONHandler(http.StatusOK, obs))
	if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "NORDSCLCD") {
		t.Errorf("consented: %d %s, want 200 with its refrain", resp.StatusCode, body)
	}
}
