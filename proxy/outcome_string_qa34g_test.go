package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOperationOutcomeStringPartsStrippedQA34G: an OperationOutcome whose
// issue, an issue in its array, or an issue's details is written as a
// string or an array rather than an object (invalid FHIR JSON, as the
// shapes 70aa7c3 reads) kept that free text ("row for F11.20 skipped") for
// org-b, as a body and as a batch entry's response.outcome: it could not
// be read for its text, and was left. It is stripped whole.
func TestOperationOutcomeStringPartsStrippedQA34G(t *testing.T) {
	t.Parallel()
	for name, issue := range map[string]string{
		"details a string":     `[{"severity":"warning","code":"processing","details":"Patient p1 has F11.20"}]`,
		"details strings":      `[{"severity":"warning","code":"processing","details":["Patient p1 has F11.20"]}]`,
		"issue a string":       `"row for F11.20 skipped"`,
		"an issue a string":    `[{"severity":"warning","code":"processing"},"row for F11.20 skipped"]`,
		"an issue an array":    `[{"severity":"warning","code":"processing"},[{"diagnostics":"row for F11.20 skipped"}]]`,
		"details, escaped key": `[{"severity":"warning","code":"processing","d\u0065tails":"Patient p1 has F11.20"}]`,
	} {
		oo := `{"resourceType":"OperationOutcome","issue":` + issue + `}`
		h := newHarness(t, fhirJSONHandler(200, oo))
		resp, body := h.get("/fhir/Condition/x/$validate", tokOther)
		if strings.Contains(body, "F11.20") || !json.Valid([]byte(body)) {
			t.Errorf("%s: body: %d %s", name, resp.StatusCode, body)
		}
		b := `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400 Bad Request","outcome":` + oo + `}}]}`
		h = newHarness(t, fhirJSONHandler(200, b))
		resp, body = h.post("/fhir", tokOther, `{"resourceType":"Bundle","type":"batch","entry":[]}`)
		if strings.Contains(body, "F11.20") || !strings.Contains(body, `"status":"400 Bad Request"`) {
			t.Errorf("%s: batch response outcome: %d %s", name, resp.StatusCode, body)
		}
	}
}
