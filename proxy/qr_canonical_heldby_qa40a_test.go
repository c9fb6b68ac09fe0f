package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCanonicalHeldByAnotherFormQA40A: a form in the answer that has the
// url and version a response names stands for the canonical, and the
// upstream is not searched: a caller who can write a Questionnaire (an
// ordinary one, with the PHQ-9's url and version) and reads it beside the
// response in one batch takes the PHQ-9's labels off the response, where
// the search finds both forms and both pass on.
func TestCanonicalHeldByAnotherFormQA40A(t *testing.T) {
	t.Parallel()
	const acme = "http://acme.example/forms/PHQ-9"
	phq9 := `{"resourceType":"Questionnaire","id":"7","url":"` + acme + `","version":"2.0","status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
	fake := `{"resourceType":"Questionnaire","id":"fake","url":"` + acme + `","version":"2.0","status":"draft"}`
	qr := qa39eQR("qr2", acme+"|2.0")
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/fhir/R4/Questionnaire":
			body := `{"resourceType":"Bundle","type":"searchset","total":0}`
			if r.URL.Query().Get("url") == acme {
				body = `{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"resource":` + phq9 + `},{"resource":` + fake + `}]}`
			}
			fhirJSONHandler(http.StatusOK, body)(w, r)
		case r.Method == http.MethodPost && (r.URL.Path == "/fhir/R4" || r.URL.Path == "/fhir/R4/"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"batch-response","entry":[`+
				`{"resource":`+qr+`,"response":{"status":"200 OK"}},`+
				`{"resource":`+fake+`,"response":{"status":"200 OK"}}]}`)(w, r)
		default:
			routes(map[string]string{
				"/fhir/R4/QuestionnaireResponse/qr2": qr,
				"/fhir/R4/Questionnaire/7":           phq9,
				"/fhir/R4/Questionnaire/fake":        fake,
			})(w, r)
		}
	})
	if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("qr2 read alone: %d %s, want 404", resp.StatusCode, body)
	}
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"QuestionnaireResponse/qr2"}},{"request":{"method":"GET","url":"Questionnaire/fake"}}]}`
	resp, body := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", batch)
	if resp.StatusCode == http.StatusOK && strings.Contains(body, "PHQ-9 total score") {
		t.Errorf("qr2 in a batch beside an ordinary form of its url: %d %s", resp.StatusCode, body)
	}
}
