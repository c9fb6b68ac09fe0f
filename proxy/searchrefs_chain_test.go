package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestTypedChainValueIsNotAReference: with enforcement.allow_chains, a
// chain whose first link names its type (subject:Patient.name=Smith) was
// read as a reference to the resource Patient.name/Smith, which the proxy
// fetched from the upstream before the search: the search then answered
// 502 or was rewritten to match nothing (QA round 26, area B). The value
// is the chained parameter's; a chain ending in a typed reference to a
// clinical resource is still read first.
func TestTypedChainValueIsNotAReference(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/Observation") {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
			return
		}
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}, func(o *Options, _ *Deps) { o.Requests.AllowChains = true })
	resp, body := h.get("/fhir/Observation?subject:Patient.name=Smith", tokAll)
	mu.Lock()
	seen := append([]string(nil), paths...)
	paths = nil
	mu.Unlock()
	if resp.StatusCode != 200 || len(seen) != 1 || !strings.Contains(seen[0], "subject%3APatient.name=Smith") && !strings.Contains(seen[0], "subject:Patient.name=Smith") {
		t.Errorf("subject:Patient.name=Smith: %d %s; the upstream saw %q", resp.StatusCode, body, seen)
	}
	h.get("/fhir/Observation?encounter.diagnosis=Condition/c-sud", tokAll)
	mu.Lock()
	seen = append([]string(nil), paths...)
	mu.Unlock()
	if len(seen) == 0 || !strings.Contains(seen[0], "/Condition/c-sud") {
		t.Errorf("a chain ending in a typed reference: the upstream saw %q, want the target read first", seen)
	}
}
