package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// QA round 34, area A: an OperationOutcome whose issue is one object
// rather than an array of one, or whose issue's details is an array
// (invalid FHIR JSON, but a server may store or send it, and other readers
// take the one as the array's one issue and the other's elements each as
// the details), kept its free text ("row for F11.20 skipped") for org-b:
// as a body, a search's outcome entry and a batch entry's
// response.outcome. It goes as it does from an array; severity and code
// stay.
func TestOperationOutcomeShapesStrippedQA34A(t *testing.T) {
	t.Parallel()
	for name, issue := range map[string]string{
		"issue one object":               `{"severity":"warning","code":"processing","details":{"coding":[{"system":"http://x","code":"c"}],"text":"Patient p1 has F11.20"},"diagnostics":"row for F11.20 skipped"}`,
		"issue one object, escaped keys": `{"severity":"warning","code":"processing","d\u0065tails":{"text":"Patient p1 has F11.20"},"di\u0061gnostics":"row for F11.20 skipped"}`,
		"details an array":               `[{"severity":"warning","code":"processing","details":[{"coding":[{"system":"http://x","code":"c"}]},{"text":"Patient p1 has F11.20"}]}]`,
	} {
		oo := `{"resourceType":"OperationOutcome","iss\u0075e":` + issue + `}`
		if !strings.Contains(name, "escaped") {
			oo = `{"resourceType":"OperationOutcome","issue":` + issue + `}`
		}
		h := newHarness(t, fhirJSONHandler(200, oo))
		resp, body := h.get("/fhir/Condition/x/$validate", tokOther)
		if resp.StatusCode != 200 || strings.Contains(body, "F11.20") || !strings.Contains(body, `"code":"processing"`) || !json.Valid([]byte(body)) {
			t.Errorf("%s: body: %d %s", name, resp.StatusCode, body)
		}
		h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			b := bundle(h0base(r), 1, false, bpObs)
			b = b[:len(b)-2] + `,{"resource":` + oo + `,"search":{"mode":"outcome"}}]}`
			fhirJSONHandler(200, b)(w, r)
		})
		_, body = h.get("/fhir/Observation?subject=p1", tokOther)
		if strings.Contains(body, "F11.20") || !strings.Contains(body, `"mode":"outcome"`) || !json.Valid([]byte(body)) {
			t.Errorf("%s: outcome entry: %s", name, body)
		}
		b := `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400 Bad Request","outcome":` + oo + `}}]}`
		h = newHarness(t, fhirJSONHandler(200, b))
		resp, body = h.post("/fhir", tokOther, `{"resourceType":"Bundle","type":"batch","entry":[]}`)
		if strings.Contains(body, "F11.20") || !strings.Contains(body, `"status":"400 Bad Request"`) {
			t.Errorf("%s: batch response outcome: %d %s", name, resp.StatusCode, body)
		}
	}
}
