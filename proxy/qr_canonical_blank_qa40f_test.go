package proxy

import (
	"net/http"
	"testing"
)

// TestCanonicalBlankBeforeVersionQA40F: a response naming its form as
// "http://acme.example/forms/PHQ-9 |2.0" (a blank before the version, or
// before a #fragment) had the form searched as url=...PHQ-9%20, which no
// server matches: the PHQ-9 answers went to org-b (200). The url is read
// without the blanks around it, as the canonical's outer blanks are.
func TestCanonicalBlankBeforeVersionQA40F(t *testing.T) {
	t.Parallel()
	const acme = "http://acme.example/forms/PHQ-9"
	form := `{"resourceType":"Questionnaire","id":"7","url":"` + acme + `","version":"2.0","status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
	for _, canon := range []string{acme + " |2.0", acme + "\\t| 2.0", acme + " #phq"} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/fhir/R4/Questionnaire" {
				body := `{"resourceType":"Bundle","type":"searchset","total":0}`
				if r.URL.Query().Get("url") == acme { // exact, as FHIR uri search is
					body = `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":` + form + `}]}`
				}
				fhirJSONHandler(http.StatusOK, body)(w, r)
				return
			}
			routes(map[string]string{
				"/fhir/R4/QuestionnaireResponse/qr2": qa39eQR("qr2", canon),
				"/fhir/R4/Questionnaire/7":           form,
			})(w, r)
		})
		if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tokOther); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%q for org-b: %d %s, want 404 (a PHQ-9's answers)", canon, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%q for org-a: %d %s, want 200", canon, resp.StatusCode, body)
		}
	}
}
