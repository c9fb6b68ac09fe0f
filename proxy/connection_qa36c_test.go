package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestConnectionHeaderKeepsProxyHeadersQA36C: a caller's Connection header
// cannot remove from the upstream request the headers the proxy's checks
// set on it. The reverse proxy deletes every header a request's Connection
// names (RFC 9110 7.6.1) before Rewrite runs, so an update merged with the
// caller's view of version 1 and pinned there by If-Match lost the pin when
// the caller sent Connection: If-Match: another writer's version 2 (a second
// SUD diagnosis the caller never saw) was overwritten by version 1's
// diagnoses, as QA round 35 found for a caller's own If-Match.
func TestConnectionHeaderKeepsProxyHeadersQA36C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const added = `"diagnosis":[{"sequence":9,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.20"}]}},`
	up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	var race atomic.Bool // the next read of eob1 is followed by another writer's update
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		up.handler(w, r)
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/ExplanationOfBenefit/eob1") && race.CompareAndSwap(true, false) {
			up.mu.Lock()
			up.put("ExplanationOfBenefit/eob1", strings.Replace(up.res["ExplanationOfBenefit/eob1"], `"diagnosis":[`, added, 1), "")
			up.ifMatch = nil
			up.mu.Unlock()
		}
	})
	resp, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokOtherWriter)
	if resp.StatusCode != 200 || strings.Contains(view, "F11.20") {
		t.Fatalf("read: %d %s", resp.StatusCode, view)
	}
	edited := strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
	race.Store(true)
	resp, got := h.sendH(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, fj, edited, "Connection", "If-Match")
	stored := up.get("ExplanationOfBenefit/eob1")
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(stored, "F10.20") || strings.Contains(stored, `"partial"`) {
		t.Fatalf("want 412 and version 2 kept: %d %s\nstored: %s", resp.StatusCode, got, stored)
	}
}
