package proxy

import (
	"net/http"
	"testing"
)

// TestPHQ9ResponseByCanonicalWithheldQA39G: a QuestionnaireResponse names
// its form by the form's canonical URL (Questionnaire.url), which is not
// where the server keeps it: a PHQ-9 stored as Questionnaire/phq9 (or
// Questionnaire/7) with url http://example.org/fhir/Questionnaire/phq9.
// The canonical is read as an absolute reference to another server's
// Questionnaire and so never read: the patient's PHQ-9 answers went to
// org-b and the payer (200).
func TestPHQ9ResponseByCanonicalWithheldQA39G(t *testing.T) {
	t.Parallel()
	form := func(id, url string) string {
		return `{"resourceType":"Questionnaire","id":"` + id + `","url":"` + url + `","status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Questionnaire" {
			u := r.URL.Query().Get("url")
			body := `{"resourceType":"Bundle","type":"searchset","total":0}`
			switch u {
			case "http://example.org/fhir/Questionnaire/phq9":
				body = `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":` + form("phq9", u) + `}]}`
			case "http://acme.example/forms/PHQ-9":
				body = `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":` + form("7", u) + `}]}`
			}
			fhirJSONHandler(http.StatusOK, body)(w, r)
			return
		}
		routes(map[string]string{
			"/fhir/R4/QuestionnaireResponse/qr1": qa39eQR("qr1", "http://example.org/fhir/Questionnaire/phq9"),
			"/fhir/R4/QuestionnaireResponse/qr2": qa39eQR("qr2", "http://acme.example/forms/PHQ-9|2.0"),
			"/fhir/R4/Questionnaire/phq9":        form("phq9", "http://example.org/fhir/Questionnaire/phq9"),
			"/fhir/R4/Questionnaire/7":           form("7", "http://acme.example/forms/PHQ-9"),
		})(w, r)
	})
	for _, id := range []string{"qr1", "qr2"} {
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/QuestionnaireResponse/"+id, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s for %s: %d %s, want 404 (a PHQ-9's answers)", id, tok, resp.StatusCode, body)
			}
		}
	}
}
