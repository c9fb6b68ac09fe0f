package proxy

import (
	"net/http"
	"testing"
)

// TestCanonicalFragmentWithheldQA40A: a canonical may end in a #fragment
// (url|version#fragment: a resource contained in the form the url names);
// the upstream was searched for url=...#phq, found nothing, and the
// PHQ-9 response took nothing from its form (200 to org-b).
func TestCanonicalFragmentWithheldQA40A(t *testing.T) {
	t.Parallel()
	const acme = "http://acme.example/forms/PHQ-9"
	form := `{"resourceType":"Questionnaire","id":"7","url":"` + acme + `","status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
	for _, c := range []string{acme + "#phq", acme + "|#phq"} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/fhir/R4/Questionnaire" {
				body := `{"resourceType":"Bundle","type":"searchset","total":0}`
				if r.URL.Query().Get("url") == acme {
					body = `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":` + form + `}]}`
				}
				fhirJSONHandler(http.StatusOK, body)(w, r)
				return
			}
			routes(map[string]string{"/fhir/R4/QuestionnaireResponse/qr2": qa39eQR("qr2", c)})(w, r)
		})
		if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tokOther); resp.StatusCode != http.StatusNotFound {
			t.Errorf("questionnaire %s: %d %.100s, want 404", c, resp.StatusCode, body)
		}
	}
}
