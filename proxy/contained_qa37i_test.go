package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestParametersOwnContainedQA37I: an operation's Parameters answer whose own
// contained array (invalid FHIR a server may store, as for any resource)
// holds a Condition labelled R.
func TestParametersOwnContainedQA37I(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[` + qa36eR + `]},"subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	obs := `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"}}`
	for name, c := range map[string]struct{ path, body string }{
		"Parameters' contained":               {"/Observation/$x", `{"resourceType":"Parameters","contained":[` + condR + `],"parameter":[{"name":"x","resource":` + obs + `}]}`},
		"Parameters' contained, no parameter": {"/Observation/$x", `{"resourceType":"Parameters","contained":[` + condR + `]}`},
		"Parameters' contained object":        {"/Observation/$x", `{"resourceType":"Parameters","contained":` + condR + `,"parameter":[{"name":"x","resource":` + obs + `}]}`},
		"escaped Parameters' contained":       {"/Observation/$x", `{"resourceType":"P\u0061rameters","cont\u0061ined":[` + condR + `]}`},
		"contained Parameters' contained":     {"/Observation/o2", `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"n"},"subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Parameters","contained":[` + condR + `]}]}`},
	} {
		h := newHarness(t, routes(map[string]string{"/fhir/R4" + c.path: c.body}), func(o *Options, _ *Deps) {
			o.Requests.AllowOperations = []string{"x"}
		})
		resp, body := h.do(http.MethodGet, "/fhir"+c.path, tokOther, "", "")
		if resp.StatusCode == http.StatusOK || strings.Contains(body, "Opioid") {
			t.Errorf("%s, org-b: %d %.300s, want it withheld", name, resp.StatusCode, body)
		}
		resp, body = h.do(http.MethodGet, "/fhir"+c.path, tokConsented, "", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") || !json.Valid([]byte(body)) {
			t.Errorf("%s, org-a: %d %.300s, want it", name, resp.StatusCode, body)
		}
	}
}
