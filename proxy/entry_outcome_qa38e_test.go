package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEntryOutcomeKeepsIssueCodesOnlyQA38E: an entry's OperationOutcome
// outcome keeps its type, id and its issues' severity and code, nothing
// else. After 1e56ae8 (contained and extension cut) org-b still got
// 'Opioid use disorder' or F11.20 from a stored collection or a batch's
// answer when the outcome carried them in a modifierExtension, an issue's
// extension, its details.coding, its expression or location, or its meta.
func TestEntryOutcomeKeepsIssueCodesOnlyQA38E(t *testing.T) {
	t.Parallel()
	ord := `{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`
	issue := `"severity":"information","code":"informational"`
	for name, oo := range map[string]string{
		"modifierExtension": `{"resourceType":"OperationOutcome","modifierExtension":[{"url":"http://x/e","valueString":"Opioid use disorder"}],"issue":[{` + issue + `}]}`,
		"issue extension":   `{"resourceType":"OperationOutcome","issue":[{"extension":[{"url":"http://x/e","valueString":"Opioid use disorder"}],` + issue + `}]}`,
		"details coding":    `{"resourceType":"OperationOutcome","issue":[{` + issue + `,"details":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"Opioid use disorder"}]}}]}`,
		"expression":        `{"resourceType":"OperationOutcome","issue":[{` + issue + `,"expression":["Condition.where(code.text='Opioid use disorder')"],"location":["F11.20"]}]}`,
		"meta":              `{"resourceType":"OperationOutcome","meta":{"tag":[{"system":"http://x","code":"F11.20","display":"Opioid use disorder"}]},"issue":[{` + issue + `}]}`,
	} {
		for _, typ := range []string{"collection", "batch-response"} {
			body := `{"resourceType":"Bundle","id":"b1","type":"` + typ + `","entry":[{"fullUrl":"urn:uuid:o9","resource":` + ord + `,"response":{"status":"200 OK","outcome":` + oo + `}}]}`
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": body}))
			resp, got := h.get("/fhir/Bundle/b1", tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(got, "Opioid") || strings.Contains(got, "F11") ||
				!strings.Contains(got, `"outcome":{"resourceType":"OperationOutcome","issue":[{`+issue+`}]}`) || !json.Valid([]byte(got)) {
				t.Errorf("%s, %s, org-b: %d %.500s, want the outcome's issue codes alone", name, typ, resp.StatusCode, got)
			}
		}
	}
}
