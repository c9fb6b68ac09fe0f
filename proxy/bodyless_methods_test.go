package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestBodylessMethodsRefuseABody: a GET, HEAD or DELETE carrying a body,
// which no check reads (a GET Observation/$render with a Parameters body
// naming another patient, a search with _content in it), is refused
// (400, an OperationOutcome) and never reaches the server; the same
// requests without a body go through.
func TestBodylessMethodsRefuseABody(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fhirJSONHandler(200, bpObs)(w, r)
	})
	params := `{"resourceType":"Parameters","parameter":[{"name":"subject","valueReference":{"reference":"Patient/p2"}}]}`
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/fhir/Observation/bp1"},
		{http.MethodGet, "/fhir/Observation?_id=bp1"},
		{http.MethodDelete, "/fhir/Observation/bp1"},
	} {
		before := calls.Load()
		resp, body := h.do(c.method, c.path, tokConsented, "application/fhir+json", params)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") || !strings.Contains(body, "carries no body") {
			t.Errorf("%s %s with a body: %d %s", c.method, c.path, resp.StatusCode, body)
		}
		if calls.Load() != before {
			t.Errorf("%s %s with a body reached the server", c.method, c.path)
		}
	}
	if resp, body := h.get("/fhir/Observation/bp1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("GET without a body: %d %s", resp.StatusCode, body)
	}
}
