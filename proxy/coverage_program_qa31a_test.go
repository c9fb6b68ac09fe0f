package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area A: a Coverage of HL7 v3 type SUBPRG (substance use
// program) was served to org-b, whom the patient's consent denies, and
// told it that the patient's SUD care is paid by such a program; now it
// is withheld as if absent, org-a, whom the consent permits, reads it,
// and a Coverage of another type still goes to both.
func TestCoverageProgramWithheldQA31A(t *testing.T) {
	t.Parallel()
	cov := func(id, code string) string {
		return `{"resourceType":"Coverage","id":"` + id + `","status":"active","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + code + `"}]},"beneficiary":{"reference":"Patient/p1"},"payor":[{"reference":"Organization/payer"}]}`
	}
	bodies := map[string]string{
		"/fhir/R4/Coverage/cv1": cov("cv1", "SUBPRG"),
		"/fhir/R4/Coverage/cv2": cov("cv2", "PUBLICPOL"),
	}
	h := newHarness(t, routes(bodies))
	if resp, body := h.get("/fhir/Coverage/cv1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("Coverage/cv1 for org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Coverage/cv1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"cv1"`) {
		t.Errorf("Coverage/cv1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
	for _, tok := range []string{tokOther, tokConsented} {
		if resp, body := h.get("/fhir/Coverage/cv2", tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"cv2"`) {
			t.Errorf("Coverage/cv2: %d %s, want it", resp.StatusCode, body)
		}
	}
}
