package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area A: an explanation of benefit whose only trace of SUD
// care is its line's CMS place of service (57, a non-residential substance
// abuse treatment facility) was served whole to org-b, whom the patient's
// consent denies; now it is withheld from org-b as if absent, and org-a,
// whom the consent permits, reads it.
func TestPlaceOfServiceWithheldQA31A(t *testing.T) {
	t.Parallel()
	const pos = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	bodies := map[string]string{
		"/fhir/R4/ExplanationOfBenefit/x1": `{"resourceType":"ExplanationOfBenefit","id":"x1","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]},"locationCodeableConcept":{"coding":[{"system":"` + pos + `","code":"57"}]}}]}`,
	}
	h := newHarness(t, routes(bodies))
	if resp, body := h.get("/fhir/ExplanationOfBenefit/x1", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(body, `"code":"57"`) {
		t.Errorf("ExplanationOfBenefit/x1 for org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/ExplanationOfBenefit/x1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"57"`) {
		t.Errorf("ExplanationOfBenefit/x1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
}
