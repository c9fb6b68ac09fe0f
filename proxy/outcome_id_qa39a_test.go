package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEntryOutcomeIDIsAnIDQA39A: an entry's OperationOutcome outcome keeps
// its resourceType and id (df22ef2) whatever their value, where its
// issues' severity and code are kept only as codes (1100f3c): an id
// written as free text ("Opioid use disorder F11.20"), an object or an
// array, also under an escaped key, carried text past the cut to org-b
// (200). An id that is one stays.
func TestEntryOutcomeIDIsAnIDQA39A(t *testing.T) {
	t.Parallel()
	ord := `{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`
	for name, head := range map[string]string{
		"id free text":        `"resourceType":"OperationOutcome","id":"Opioid use disorder F11.20"`,
		"id object":           `"resourceType":"OperationOutcome","id":{"text":"Opioid use disorder"}`,
		"id array":            `"resourceType":"OperationOutcome","id":["F11.20"]`,
		"escaped id key":      `"resourceType":"OperationOutcome","\u0069d":"Opioid use disorder"`,
		"second resourceType": `"resourceType":"OperationOutcome","resourceType":"Opioid use disorder"`,
	} {
		oo := `{` + head + `,"issue":[{"severity":"error","code":"processing"}]}`
		for _, typ := range []string{"collection", "batch-response"} {
			body := `{"resourceType":"Bundle","id":"b1","type":"` + typ + `","entry":[{"fullUrl":"urn:uuid:o9","resource":` + ord + `,"response":{"status":"200 OK","outcome":` + oo + `}}]}`
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": body}))
			resp, got := h.get("/fhir/Bundle/b1", tokOther)
			if strings.Contains(got, "Opioid") || strings.Contains(got, "F11") || resp.StatusCode == http.StatusOK && !json.Valid([]byte(got)) {
				t.Errorf("%s, %s, org-b: %d %.600s, want no free text", name, typ, resp.StatusCode, got)
			}
		}
	}
	// An id that is one stays.
	oo := `{"resourceType":"OperationOutcome","id":"oo-1.2","issue":[{"severity":"error","code":"processing"}]}`
	body := `{"resourceType":"Bundle","id":"b1","type":"collection","entry":[{"fullUrl":"urn:uuid:o9","resource":` + ord + `,"response":{"status":"200 OK","outcome":` + oo + `}}]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": body}))
	if resp, got := h.get("/fhir/Bundle/b1", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(got, oo) {
		t.Errorf("an outcome with an id, org-b: %d %.600s", resp.StatusCode, got)
	}
}
