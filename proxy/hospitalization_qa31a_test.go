package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area A: an Encounter that discharged the patient to a
// psychiatric hospital (THO discharge-disposition psy) was served to
// org-b, whom the patient's consent denies, and told it of a psychiatric
// stay; now it is withheld as if absent, and org-a, whom the consent
// permits, reads it.
func TestPsychiatricDischargeWithheldQA31A(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/fhir/R4/Encounter/e1": `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"Patient/p1"},"hospitalization":{"dischargeDisposition":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/discharge-disposition","code":"psy"}]}}}`,
	}
	h := newHarness(t, routes(bodies))
	if resp, body := h.get("/fhir/Encounter/e1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("Encounter/e1 for org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Encounter/e1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"e1"`) {
		t.Errorf("Encounter/e1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
}
