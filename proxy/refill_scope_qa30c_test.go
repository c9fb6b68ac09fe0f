package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A system search's next link names the same search only with the same
// _type: refilling a page of [base]?_type=Condition from an upstream next
// link of another _type read resources the caller's scopes (Condition
// only) do not cover, and disclosed them past every scope check.
func TestSystemSearchRefillKeepsTypeQA30C(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("_type") == "Observation" {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"x","resource":`+bpObs+`,"search":{"mode":"match"}}]}`)(w, r)
			return
		}
		page := `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"` + h.base() + `?_type=Condition&_count=2"},{"relation":"next","url":"` + h.base() + `?_type=Observation&_offset=2"}],"entry":[` +
			`{"fullUrl":"x","resource":` + refillCond("c0", false) + `,"search":{"mode":"match"}},` +
			`{"fullUrl":"y","resource":` + refillCond("c1", true) + `,"search":{"mode":"match"}}]}`
		fhirJSONHandler(200, page)(w, r)
	})
	resp, body := h.get("/fhir?_type=Condition&_count=2", "Organization/org-b|TREAT|user/Condition.read")
	if strings.Contains(body, `"Observation"`) {
		t.Errorf("a Condition-scoped system search was refilled with Observations: %d %s", resp.StatusCode, body)
	}
}
