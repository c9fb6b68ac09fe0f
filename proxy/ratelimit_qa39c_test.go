package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestBatchPostedOperationChargedAsItselfQA39C (QA round 39, area C): a
// batch's entries were charged as reads, searches or $everything when
// their method was GET, and as writes otherwise, so an entry POSTing
// Patient/$everything (an operation FHIR lets a client POST, and the
// proxy forwards in a batch) took a write token: a caller whose
// $everything budget (5 a second, burst 20 by default) was one request
// ran a batch of five type-level $everything operations and then its own
// $everything (200), the everything bucket untouched. The same request
// sent alone is charged as $everything (fhirClass), and so is each entry
// now.
func TestBatchPostedOperationChargedAsItselfQA39C(t *testing.T) {
	t.Parallel()
	one := Limit{Rate: 0.001, Burst: 1}
	tok := "carol|Organization/c|app-c|user/*.read user/*.write"
	entry := `{"request":{"method":"POST","url":"Patient/$everything"},"resource":{"resourceType":"Parameters"}}`
	bundle := `{"resourceType":"Bundle","type":"batch","entry":[` + strings.Repeat(entry+",", 4) + entry + `]}`
	for _, c := range []struct {
		name  string
		first func(h *harness) (*http.Response, string)
	}{
		{"alone", func(h *harness) (*http.Response, string) {
			return h.post("/fhir/Patient/$everything", tok, `{"resourceType":"Parameters"}`)
		}},
		{"in a batch", func(h *harness) (*http.Response, string) { return h.post("/fhir/", tok, bundle) }},
	} {
		var hits atomic.Int64
		h := newHarness(t, countingUpstream(&hits), withLimits(RateLimits{Everything: one, ClientFactor: 100, OrgFactor: 100}, nil))
		if resp, body := c.first(h); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("%s: first POST Patient/$everything: %d %s, want it let through", c.name, resp.StatusCode, body)
		}
		resp, body := h.get("/fhir/Patient/p9/$everything", tok)
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "everything") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: $everything after POST Patient/$everything with an everything burst of 1: %d %s, want 429", c.name, resp.StatusCode, body)
		}
	}
}
