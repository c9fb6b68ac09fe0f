package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area A: a genomic variant (HL7 Genomics Reporting IG:
// category v2-0074 GE, LOINC 69548-6 Genetic variant assessment) was
// served as ordinary data to a payer, against the patient's consent and
// the policy's GDIS topic (genetic privacy laws, GINA for payers); now it
// is withheld from the payer as if absent, while org-a, whom the consent
// permits, reads it and the payer still reads an ordinary result.
func TestGenomicVariantWithheldQA31A(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/fhir/R4/Observation/v1": `{"resourceType":"Observation","id":"v1","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"GE"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"69548-6"}]},"subject":{"reference":"Patient/p1"},"valueCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"LA9633-4","display":"Present"}]}}`,
		"/fhir/R4/Observation/o1": `{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":5.4}}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	if resp, body := h.get("/fhir/Observation/v1", tokPayer); resp.StatusCode != http.StatusNotFound {
		t.Errorf("Observation/v1 for the payer: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/v1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"v1"`) {
		t.Errorf("Observation/v1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o1", tokPayer); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"o1"`) {
		t.Errorf("Observation/o1 for the payer: %d %s, want it", resp.StatusCode, body)
	}
}
