package proxy

import (
	"strings"
	"testing"
)

// TestUnknownConfidentialityWithheldAsRestricted: an Observation whose
// upstream label is a confidentiality code ds4p does not know (X) was
// disclosed as ordinary data to a caller that confidentiality R keeps it
// from; it is now judged as R (labels: an unknown confidentiality reads
// as R).
func TestUnknownConfidentialityWithheldAsRestricted(t *testing.T) {
	t.Parallel()
	obs := func(code string) string {
		return `{"resourceType":"Observation","id":"o1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"` + code + `"}]},"status":"final","code":{"text":"SECRETMARK"},"subject":{"reference":"Patient/p1"}}`
	}
	answer := func(code string) (int, string) {
		h := newHarness(t, fhirJSONHandler(200, obs(code)))
		resp, body := h.get("/fhir/Observation/o1", tokOther)
		return resp.StatusCode, body
	}
	nStatus, nBody := answer("N")
	rStatus, rBody := answer("R")
	if nStatus != 200 || !strings.Contains(nBody, "SECRETMARK") || strings.Contains(rBody, "SECRETMARK") {
		t.Fatalf("the test's premise: N %d %s; R %d %s", nStatus, nBody, rStatus, rBody)
	}
	for _, code := range []string{"X", "restricted", "T"} {
		if status, body := answer(code); status != rStatus || strings.Contains(body, "SECRETMARK") {
			t.Errorf("confidentiality %s: %d %s, want as R: %d", code, status, body, rStatus)
		}
	}
}
