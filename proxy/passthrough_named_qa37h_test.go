package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestPassthroughNamedPatientsBoundedQA37H (QA round 37, helper H, on
// 18bbcc9): an unbound caller's uninspected operation answer was recorded
// once per patient its query names, with no bound: one GET
// Observation/$render?patient=1,2,...,5000 (a URL within the server's
// 64 KiB header limit) appended 5,000 ledger entries, each holding the
// whole query, from one request. A query naming more than
// maxNamedPatients is now refused, before anything is recorded; one
// naming that many is recorded as before.
func TestPassthroughNamedPatientsBoundedQA37H(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>record</pre></html>"))
	}, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = strconv.Itoa(i + 1)
		}
		return strings.Join(s, ",")
	}
	count := func() int {
		h.ledger.mu.Lock()
		defer h.ledger.mu.Unlock()
		return len(h.ledger.entries)
	}
	before := count()
	resp, body := h.get("/fhir/Observation/$render?patient="+ids(5000), tokOther)
	if n := count() - before; n > maxNamedPatients || resp.StatusCode == http.StatusOK {
		t.Fatalf("a query naming 5000 patients: %d, %d ledger entries; want it refused, nothing recorded (%.80s)", resp.StatusCode, n, body)
	}
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("a query naming 5000 patients: %d %.200s, want a 400 OperationOutcome", resp.StatusCode, body)
	}
	before = count()
	resp, body = h.get("/fhir/Observation/$render?patient="+ids(maxNamedPatients), tokOther)
	if resp.StatusCode != http.StatusOK || count()-before != maxNamedPatients {
		t.Errorf("a query naming %d patients: %d, %d entries (%.80s); want the answer, one entry each", maxNamedPatients, resp.StatusCode, count()-before, body)
	}
}
