package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Bundle.entry.response.outcome is typed Resource. A Condition its EHR
// labelled R (or coded F11.20) stored there, in a stored collection or
// history, or in a Bundle contained in a record or carried in a
// Parameters answer, went to org-b whole (200): only entry.resource was
// labelled, and outside a batch's answer the outcome was not even read.
func TestEntryResponseOutcomeLabelledQA38A(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[` + qa36eR + `]},"subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	condF := `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	ord := `{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`
	stored := func(typ, c string) string {
		return `{"resourceType":"Bundle","id":"b1","type":"` + typ + `","entry":[{"fullUrl":"urn:uuid:o9","resource":` + ord + `,"response":{"status":"200 OK","outcome":` + c + `}}]}`
	}
	obs := func(c string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},"contained":[` + c + `]}`
	}
	for name, c := range map[string]struct {
		path, body string
		orgA       bool // org-a gets it (labelled) rather than a refusal
	}{
		"stored collection, R":        {"/Bundle/b1", stored("collection", condR), false},
		"stored collection, F11.20":   {"/Bundle/b1", stored("collection", condF), false},
		"stored history, R":           {"/Bundle/b1", stored("history", condR), false},
		"batch-response, no resource": {"/Bundle/b1", `{"resourceType":"Bundle","id":"b1","type":"batch-response","entry":[{"response":{"status":"200 OK","outcome":` + condR + `}}]}`, false},
		"outcome as an array":         {"/Bundle/b1", `{"resourceType":"Bundle","id":"b1","type":"batch-response","entry":[{"response":{"status":"200 OK","outcome":[` + condR + `]}}]}`, false},
		"contained collection, R":     {"/Observation/o1", obs(stored("collection", condR)), true},
		"contained, response array":   {"/Observation/o1", obs(`{"resourceType":"Bundle","type":"collection","entry":[{"response":[{"status":"200","outcome":` + condR + `}]}]}`), true},
		"parameter's collection, R":   {"/Observation/$x", `{"resourceType":"Parameters","parameter":[{"name":"x","resource":` + stored("collection", condR) + `}]}`, true},
	} {
		h := newHarness(t, routes(map[string]string{"/fhir/R4" + c.path: c.body}), func(o *Options, _ *Deps) {
			o.Requests.AllowOperations = []string{"x"}
		})
		resp, body := h.do(http.MethodGet, "/fhir"+c.path, tokOther, "", "")
		if resp.StatusCode == http.StatusOK || strings.Contains(body, "Opioid") || strings.Contains(body, "F11") {
			t.Errorf("%s, org-b: %d %.300s, want it withheld", name, resp.StatusCode, body)
		}
		if !c.orgA {
			continue
		}
		resp, body = h.do(http.MethodGet, "/fhir"+c.path, tokConsented, "", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") || !json.Valid([]byte(body)) {
			t.Errorf("%s, org-a: %d %.300s, want it", name, resp.StatusCode, body)
		}
	}
}
