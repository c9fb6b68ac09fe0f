package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 39, area H: a patient's DAST-10 (drug abuse screen) and C-SSRS
// (suicide risk scale), as an Observation and as a QuestionnaireResponse
// to the LOINC form, served as ordinary to a payer and to org-b, whom the
// patient's consent does not permit; org-a, whom it permits, reads them.

func qa39hObs(id, code string, value int) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"Patient/p1"},` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},"valueInteger":` + string(rune('0'+value)) + `}`
}

func qa39hResponse(id, form string) string {
	return `{"resourceType":"QuestionnaireResponse","id":"` + id + `","status":"completed","subject":{"reference":"Patient/p1"},` +
		`"questionnaire":"http://loinc.org/q/` + form + `","item":[{"linkId":"/93247-5","text":"Have you actually had any thoughts of killing yourself?",` +
		`"answer":[{"valueCoding":{"system":"http://loinc.org","code":"LA33-6","display":"Yes"}}]}]}`
}

func TestScreeningInstrumentsWithheldQA39H(t *testing.T) {
	t.Parallel()
	h := newHarness(t, routes(map[string]string{
		"/fhir/R4/Observation/dast":           qa39hObs("dast", "82667-7", 4),
		"/fhir/R4/Observation/cssrs":          qa39hObs("cssrs", "93374-7", 3),
		"/fhir/R4/QuestionnaireResponse/qd":   qa39hResponse("qd", "82666-9"),
		"/fhir/R4/QuestionnaireResponse/qc":   qa39hResponse("qc", "93245-9"),
		"/fhir/R4/Observation/auditc":         qa39hObs("auditc", "72109-2", 2),
		"/fhir/R4/QuestionnaireResponse/qsdo": qa39hResponse("qsdo", "93025-5"),
	}))
	for _, path := range []string{"Observation/dast", "Observation/cssrs", "QuestionnaireResponse/qd", "QuestionnaireResponse/qc"} {
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/"+path, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s for %s: %d %s, want 404", path, tok, resp.StatusCode, body)
			}
		}
		id := path[strings.IndexByte(path, '/')+1:]
		if resp, body := h.get("/fhir/"+path, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("%s for org-a: %d %s, want it", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"Observation/auditc", "QuestionnaireResponse/qsdo"} {
		if resp, body := h.get("/fhir/"+path, qa32bPayer); resp.StatusCode != http.StatusOK {
			t.Errorf("%s (ordinary) for the payer: %d %s, want it", path, resp.StatusCode, body)
		}
	}
}
