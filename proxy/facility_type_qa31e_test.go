package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area E: a progress note whose DocumentReference names a
// substance abuse treatment center as its facility type (c80-facilitycodes
// 20078004 in context.facilityType) was served to a payer and to org-b,
// whom the patient's consent denies, and told them of SUD care; now it is
// withheld from them as if absent, org-a, whom the consent permits, reads
// it, and a note of a dermatology clinic is served to all.
func TestFacilityTypeWithheldQA31E(t *testing.T) {
	t.Parallel()
	doc := func(id, code string) string {
		return `{"resourceType":"DocumentReference","id":"` + id + `","status":"current","subject":{"reference":"Patient/p1"},"type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]},"context":{"facilityType":{"coding":[{"system":"http://snomed.info/sct","code":"` + code + `"}]}},"content":[{"attachment":{"contentType":"text/plain","url":"https://example.org/notes/` + id + `"}}]}`
	}
	bodies := map[string]string{
		"/fhir/R4/DocumentReference/d1": doc("d1", "20078004"),
		"/fhir/R4/DocumentReference/d2": doc("d2", "37550003"),
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	for _, tok := range []string{tokPayer, tokOther} {
		if resp, body := h.get("/fhir/DocumentReference/d1", tok); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "20078004") {
			t.Errorf("DocumentReference/d1 for %s: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/DocumentReference/d1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"d1"`) {
		t.Errorf("DocumentReference/d1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
	for _, tok := range []string{tokPayer, tokOther, tokConsented} {
		if resp, body := h.get("/fhir/DocumentReference/d2", tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"d2"`) {
			t.Errorf("DocumentReference/d2 for %s: %d %s, want it", tok, resp.StatusCode, body)
		}
	}
}
