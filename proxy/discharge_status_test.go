package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// An explanation of benefit for a stay that ended in a transfer to a
// psychiatric hospital (NUBC discharge status 65) is mental health care:
// withheld from the payer as if absent, read by org-a, whom the consent
// permits. It went to the payer as ordinary data.
func TestDischargeStatusWithheldFromPayer(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/fhir/R4/ExplanationOfBenefit/e1": `{"resourceType":"ExplanationOfBenefit","id":"e1","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},"supportingInfo":[{"sequence":1,` +
			`"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType","code":"discharge-status"}]},` +
			`"code":{"coding":[{"system":"https://www.nubc.org/CodeSystem/PatDischargeStatus","code":"65"}]}}]}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	r1, b1 := h.get("/fhir/ExplanationOfBenefit/e1", tokPayer)
	r2, b2 := h.get("/fhir/ExplanationOfBenefit/zz1", tokPayer)
	if r1.StatusCode != http.StatusNotFound || r2.StatusCode != http.StatusNotFound || strings.ReplaceAll(b1, "e1", "X") != strings.ReplaceAll(b2, "zz1", "X") {
		t.Errorf("for the payer: %d %s; a missing one: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if resp, body := h.get("/fhir/ExplanationOfBenefit/e1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"MH"`) {
		t.Errorf("for org-a: %d %s, want it labelled MH", resp.StatusCode, body)
	}
}
