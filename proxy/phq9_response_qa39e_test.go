package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 39, area E: a record of a type or code system few had looked
// at, served as ordinary to a payer and to org-b, whom the patient's
// consent does not permit; org-a, whom it permits, reads it.

func qa39eQR(id, questionnaire string) string {
	return `{"resourceType":"QuestionnaireResponse","id":"` + id + `","status":"completed","subject":{"reference":"Patient/p1"},` +
		`"questionnaire":"` + questionnaire + `","item":[{"linkId":"/44261-6","text":"PHQ-9 total score","answer":[{"valueInteger":21}]}]}`
}

// TestPHQ9ResponseWithheldQA39E: a patient's PHQ-9 answers, named by the
// LOINC form's canonical, and by a reference to the EHR's PHQ-9
// Questionnaire (read by the proxy to label the response).
func TestPHQ9ResponseWithheldQA39E(t *testing.T) {
	t.Parallel()
	form := `{"resourceType":"Questionnaire","id":"phq9","status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
	h := newHarness(t, routes(map[string]string{
		"/fhir/R4/QuestionnaireResponse/qr1": qa39eQR("qr1", "http://loinc.org/q/44249-1"),
		"/fhir/R4/QuestionnaireResponse/qr2": qa39eQR("qr2", "Questionnaire/phq9"),
		"/fhir/R4/QuestionnaireResponse/qr9": qa39eQR("qr9", "http://loinc.org/q/93025-5"),
		"/fhir/R4/Questionnaire/phq9":        form,
	}))
	for _, id := range []string{"qr1", "qr2"} {
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/QuestionnaireResponse/"+id, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s for %s: %d %s, want 404", id, tok, resp.StatusCode, body)
			}
		}
		if resp, body := h.get("/fhir/QuestionnaireResponse/"+id, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("%s for org-a: %d %s, want it", id, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/QuestionnaireResponse/qr9", qa32bPayer); resp.StatusCode != http.StatusOK {
		t.Errorf("qr9 (a PRAPARE, ordinary) for the payer: %d %s, want it", resp.StatusCode, body)
	}
}
