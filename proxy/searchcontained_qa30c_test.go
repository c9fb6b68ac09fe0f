package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// _contained and _containedType make the server match inside contained
// resources and answer one alone, apart from the container it is judged
// with: refused, but as their defaults, before anything reaches the
// upstream, with an answer that depends on the request alone.
func TestContainedSearchRefusedQA30C(t *testing.T) {
	t.Parallel()
	h, query, _ := bareIDHarness(t)
	for _, path := range []string{
		"/fhir/Observation?code=1234&_contained=true",
		"/fhir/Observation?code=1234&_contained=both",
		"/fhir/Observation?code=1234&_contained=TRUE&_containedType=contained",
		"/fhir/Observation?code=1234&_containedType=contained",
		"/fhir/Observation?code=1234&_CONTAINED=true",
		"/fhir/Observation?code=1234&_contained:exact=false",
		"/fhir/Observation?code=1234&_contained=false&_contained=true",
	} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not-supported") || !strings.Contains(body, "judged only with its container") {
			t.Errorf("%s: %d %s, want 400", path, resp.StatusCode, body)
		}
		if q := query("Observation"); q != "" {
			t.Errorf("%s reached the upstream: %q", path, q)
		}
	}
	for _, path := range []string{
		"/fhir/Observation?code=1234&_contained=false",
		"/fhir/Observation?code=1234&_containedType=container",
		"/fhir/Observation?code=1234&_contained=%20False%20&_containedType=Container",
	} {
		resp, body := h.get(path, tokOther)
		if q := query("Observation"); resp.StatusCode != http.StatusOK || !strings.Contains(q, "code=1234") {
			t.Errorf("%s: %d %s; upstream query %q, want it forwarded", path, resp.StatusCode, body, q)
		}
	}
}
