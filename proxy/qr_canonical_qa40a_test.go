package proxy

import (
	"net/http"
	"testing"
)

// TestCanonicalOfRevisedFormWithheldQA40A: a response names its form by
// the canonical and version it was answered under
// (http://acme.example/forms/PHQ-9|2.0); the server keeps the form's
// current version only (2.1, or a form that records no version), as a
// server does once a form is revised in place. A search
// Questionnaire?url=...&version=2.0 on a server that honours version finds
// nothing, so the response took nothing from its form and the PHQ-9
// answers went to org-b and the payer (200), where the same form in the
// answer (any version) stands for the canonical and withholds them.
func TestCanonicalOfRevisedFormWithheldQA40A(t *testing.T) {
	t.Parallel()
	const acme = "http://acme.example/forms/PHQ-9"
	for _, version := range []string{`"version":"2.1",`, ``} {
		form := `{"resourceType":"Questionnaire","id":"7","url":"` + acme + `",` + version + `"status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/fhir/R4/Questionnaire" {
				q := r.URL.Query()
				body := `{"resourceType":"Bundle","type":"searchset","total":0}`
				// A server honouring both parameters, as HAPI does.
				if q.Get("url") == acme && (q.Get("version") == "" || version == `"version":"`+q.Get("version")+`",`) {
					body = `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":` + form + `}]}`
				}
				fhirJSONHandler(http.StatusOK, body)(w, r)
				return
			}
			routes(map[string]string{
				"/fhir/R4/QuestionnaireResponse/qr2": qa39eQR("qr2", acme+"|2.0"),
				"/fhir/R4/Questionnaire/7":           form,
			})(w, r)
		})
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("form %s for %s: %d %s, want 404 (a PHQ-9's answers)", version, tok, resp.StatusCode, body)
			}
		}
		if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("form %s for org-a: %d %s, want 200", version, resp.StatusCode, body)
		}
	}
}
