package proxy

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// QA round 33, area G, on d971be4 and bc1381a: a failed identifier-search
// check is run again on the next response that needs it, whatever the
// failure. A server that refuses the check's listing for good
// (Consent?_count=100 answered 403: the proxy's client may search
// consents only by patient) had the check, one listing and a warning in
// the log, run again before every response needing a patient's consents,
// one at a time under the check's semaphore: each such read cost one
// more upstream request and waited for the reads before it.
func TestIdentifierProbeRefusedRunsOnceQA33G(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var listings atomic.Int32
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Consent" && !r.URL.Query().Has("patient") && !r.URL.Query().Has("patient:identifier") {
			listings.Add(1)
			fhirJSONHandler(http.StatusForbidden, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"}]}`)(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(200, permit)
	for range 5 {
		_ = u.read(tokConsented)
	}
	if n := listings.Load(); n > 1 {
		t.Errorf("a check refused for good (403) ran %d times in 5 reads, one upstream listing before each", n)
	}
}
