package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEntryOutcomeIssueCodeIsACodeQA38J: an entry's OperationOutcome
// outcome keeps its issues' severity and code (df22ef2) only as the codes
// FHIR gives them: a severity or code written as an object, an array, or a
// string that is no IssueSeverity or IssueType code ("Opioid use disorder
// F11.20") carried free text to org-b past the cut.
func TestEntryOutcomeIssueCodeIsACodeQA38J(t *testing.T) {
	t.Parallel()
	ord := `{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`
	for name, is := range map[string]string{
		"code object":     `"severity":"error","code":{"text":"Opioid use disorder"}`,
		"code array":      `"severity":"error","code":["F11.20"]`,
		"code free text":  `"severity":"error","code":"Opioid use disorder F11.20"`,
		"severity object": `"severity":{"text":"Opioid use disorder"},"code":"processing"`,
		"severity text":   `"severity":"F11.20","code":"processing"`,
	} {
		oo := `{"resourceType":"OperationOutcome","issue":[{` + is + `}]}`
		for _, typ := range []string{"collection", "batch-response"} {
			body := `{"resourceType":"Bundle","id":"b1","type":"` + typ + `","entry":[{"fullUrl":"urn:uuid:o9","resource":` + ord + `,"response":{"status":"200 OK","outcome":` + oo + `}}]}`
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": body}))
			resp, got := h.get("/fhir/Bundle/b1", tokOther)
			if strings.Contains(got, "Opioid") || strings.Contains(got, "F11") || resp.StatusCode == http.StatusOK && !json.Valid([]byte(got)) {
				t.Errorf("%s, %s, org-b: %d %.600s, want no free text", name, typ, resp.StatusCode, got)
			}
		}
	}
}
