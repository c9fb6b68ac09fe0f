package proxy

import (
	"encoding/base64"
	"net/http"
	"testing"
)

// TestAttachedLabelActReasonQA36E: a FHIR resource attached to a
// DocumentReference whose own label is spelt as the labeller reads it on
// a resource's meta.security (42CFRPart2 under v3-ActReason) labels the
// DocumentReference, as its v3-ActCode spelling does. attachedLabel took
// only the v3-Confidentiality and v3-ActCode systems, so a Part 2
// document labelled so, its text naming no code a rule matches, went to
// org-b (200). QA round 36, area E (found while checking area A's A-5).
func TestAttachedLabelActReasonQA36E(t *testing.T) {
	t.Parallel()
	for _, sec := range []string{
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"42CFRPart2"}`,
		`{"system":"urn:oid:2.16.840.1.113883.5.8","code":"42CFRPart2"}`,
	} {
		note := `{"resourceType":"Bundle","id":"b1","type":"collection","meta":{"security":[` + sec + `]},"entry":[{"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}}]}`
		dr := `{"resourceType":"DocumentReference","id":"dr1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte(note)) + `"}}]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/DocumentReference/dr1": dr}))
		if resp, body := h.get("/fhir/DocumentReference/dr1", tokOther); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: org-b got %d %s", sec, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/DocumentReference/dr1", tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: org-a got %d %s", sec, resp.StatusCode, body)
		}
	}
}
