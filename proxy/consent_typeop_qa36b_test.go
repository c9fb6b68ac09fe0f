package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTypeOperationMayWriteConsentsQA36B: an operation of another type
// may write the upstream's consents too: Patient/$merge (FHIR R5, HAPI
// FHIR) moves every resource naming the source patient to the target, its
// Consents included, so the target gets the source's opt-out. On demand,
// the target's consents read before the merge stayed cached for
// upstream_ttl after ds4p answered it, and org-a went on reading the SUD
// condition under the permit the merged-in opt-out overrides (200). Only
// Consent requests and system-level requests were followed as consent
// writes. $merge is no built-in operation: a site lets it through with
// enforcement.allow_operations.
func TestTypeOperationMayWriteConsentsQA36B(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	u.server.opts.Requests.AllowOperations = []string{"merge"} // enforcement.allow_operations, before any request
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	// The source patient's opt-out, now naming p1.
	optOut := upstreamConsentWith("u9", nestedDeny("http://terminology.hl7.org/CodeSystem/v3-ActCode", "SUD"))
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Patient/$merge") {
			u.fhir.set(200, granted, optOut)
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Parameters","parameter":[]}`)(w, r)
			return
		}
		if r.URL.Path == "/fhir/R4/Patient/p9" {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p9"}`)(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(200, granted)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted: %d, want 200", code)
	}
	merge := `{"resourceType":"Parameters","parameter":[{"name":"source-patient","valueReference":{"reference":"Patient/p9"}},{"name":"target-patient","valueReference":{"reference":"Patient/p1"}}]}`
	resp, body := u.do(http.MethodPost, "/fhir/Patient/$merge", "Organization/org-a|HOPERAT|user/*.read user/*.write", "application/fhir+json", merge)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("$merge: %d %s", resp.StatusCode, body)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after ds4p answered Patient/$merge, which gave p1 an opt-out: %d, want 404", code)
	}
}
