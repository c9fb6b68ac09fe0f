package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area E: an explanation of benefit whose only trace of
// mental health care is its line's NUBC revenue code (0513, psychiatric
// clinic) was served whole to a payer and to org-b, whom the patient's
// consent denies; now it is withheld from them as if absent, and org-a,
// whom the consent permits, reads it; an emergency room line (0450) is
// served to all.
func TestMHBillingWithheldQA31E(t *testing.T) {
	t.Parallel()
	eob := func(id, rev string) string {
		return `{"resourceType":"ExplanationOfBenefit","id":"` + id + `","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"revenue":{"coding":[{"system":"https://www.nubc.org/CodeSystem/RevenueCodes","code":"` + rev + `"}]},"productOrService":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"not-applicable"}]}}]}`
	}
	bodies := map[string]string{
		"/fhir/R4/ExplanationOfBenefit/x1": eob("x1", "0513"),
		"/fhir/R4/ExplanationOfBenefit/x2": eob("x2", "0450"),
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	for _, tok := range []string{tokPayer, tokOther} {
		if resp, body := h.get("/fhir/ExplanationOfBenefit/x1", tok); resp.StatusCode != http.StatusNotFound || strings.Contains(body, `"0513"`) {
			t.Errorf("ExplanationOfBenefit/x1 for %s: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/ExplanationOfBenefit/x1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"0513"`) {
		t.Errorf("ExplanationOfBenefit/x1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
	for _, tok := range []string{tokPayer, tokOther, tokConsented} {
		if resp, body := h.get("/fhir/ExplanationOfBenefit/x2", tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"x2"`) {
			t.Errorf("ExplanationOfBenefit/x2 for %s: %d %s, want it", tok, resp.StatusCode, body)
		}
	}
}

// QA round 31, area E: a claim billing only HCPCS G0396 (alcohol or
// substance abuse structured assessment and brief intervention) was served
// whole to org-b, whom the patient's consent denies; now it is withheld
// from org-b as if absent, and org-a reads it.
func TestSBIRTHCPCSWithheldQA31E(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/fhir/R4/Claim/c1": `{"resourceType":"Claim","id":"c1","status":"active","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets","code":"G0396"}]}}]}`,
	}
	h := newHarness(t, routes(bodies))
	if resp, body := h.get("/fhir/Claim/c1", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "G0396") {
		t.Errorf("Claim/c1 for org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Claim/c1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "G0396") {
		t.Errorf("Claim/c1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
}
