package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestReadOperationByPostKeepsConsentsCachedQA36F: since QA round 36, area
// B, an operation that is not read-only, on any type, is followed as a
// possible write of the upstream's consents: every cache of them is
// dropped for all callers (and a mirror waits for a full sync round). The
// built-in $summary (the patient summary document, built from the record,
// affectsState false) was not among the read-only ones, so any reader
// could, by invoking it with POST, drop every patient's cached consents at
// will and make every response read them from the upstream again.
func TestReadOperationByPostKeepsConsentsCachedQA36F(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted: %d, want 200", code)
	}
	before := u.fhir.searches.Load()
	for _, path := range []string{"/fhir/Patient/p1/$summary", "/fhir/Patient/$summary"} {
		u.do(http.MethodPost, path, tokConsented, "application/fhir+json", `{"resourceType":"Parameters"}`)
		if code := u.read(tokConsented); code != http.StatusOK {
			t.Fatalf("after POST %s: %d, want 200", path, code)
		}
		if n := u.fhir.searches.Load(); n != before {
			t.Errorf("POST %s dropped the cached consents: %d consent searches, want %d", path, n, before)
			before = n
		}
	}
}
