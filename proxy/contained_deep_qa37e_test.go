package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestContainedDeepLabelsQA37E (QA round 37, area E, on e2a9e49): a
// contained Bundle's entries are labelled on their own, but a resource
// held one step further was still labelled as part of what held it, by
// that one's meta.security only: a Condition its EHR labelled R (text
// 'Opioid use disorder', no code a rule matches) went to org-b (200) in
// the contained array of a Bundle entry's Observation, of a Parameters'
// Observation (an operation's answer, valid FHIR), in a contained
// Parameters, and in a contained resource's own contained array (invalid
// FHIR, but a server may store it). Every resource held inside a
// contained or parameter resource is now one of its container's
// contained resources, up to maxBundleNesting deep.
func TestContainedDeepLabelsQA37E(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[` + qa36eR + `]},"subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	params := `{"resourceType":"Parameters","id":"pp","parameter":[{"name":"x","resource":` + condR + `}]}`
	holding := `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"n"},"subject":{"reference":"Patient/p1"},"contained":[` + condR + `]}`
	obs := func(c string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},"contained":[` + c + `]}`
	}
	parameters := func(res string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"x","resource":` + res + `}]}`
	}
	for name, c := range map[string]struct{ path, body string }{
		"contained Bundle entry's contained":   {"/Observation/o1", obs(qa36eBundle("b2", "collection", "", false, holding))},
		"contained Parameters":                 {"/Observation/o1", obs(params)},
		"contained Bundle entry's Parameters":  {"/Observation/o1", obs(qa36eBundle("b2", "collection", "", false, params))},
		"contained resource's contained":       {"/Observation/o1", obs(holding)},
		"parameter resource's contained":       {"/Observation/$x", parameters(holding)},
		"parameter Bundle entry's contained":   {"/Observation/$x", parameters(qa36eBundle("b2", "collection", "", false, holding))},
		"parameter part resource's contained":  {"/Observation/$x", `{"resourceType":"Parameters","parameter":[{"name":"x","part":[{"name":"y","resource":` + holding + `}]}]}`},
		"parameter resource's Parameters' one": {"/Observation/$x", parameters(parameters(holding))},
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
