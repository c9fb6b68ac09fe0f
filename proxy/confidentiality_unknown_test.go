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

// TestRespeltLabelWrittenCanonically: a label the upstream spells
// otherwise than ds4p writes it (an unknown confidentiality code read as
// R, a label system by its OID) reaches a caller allowed to see the
// resource as it came and as ds4p writes it, so that a receiver comparing
// labels exactly (it must not redisclose, it must restrict) sees them.
func TestRespeltLabelWrittenCanonically(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Observation","id":"o1","meta":{"security":[`+
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"X"},`+
		`{"system":"urn:oid:2.16.840.1.113883.5.4","code":"NORDSCLCD"}]},"status":"final","code":{"text":"SECRETMARK"},"subject":{"reference":"Patient/p1"}}`))
	resp, body := h.get("/fhir/Observation/o1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, "SECRETMARK") {
		t.Fatalf("the consented caller: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"X"}`,
		`{"system":"urn:oid:2.16.840.1.113883.5.4","code":"NORDSCLCD"}`,
		`"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"`,
		`"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"NORDSCLCD"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the answer lacks %s: %s", want, body)
		}
	}
}
