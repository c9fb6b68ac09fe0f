package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestSystemClosureKeepsConsentsCachedQA36J (QA round 36, area J, on
// bbdf692): $closure is a system-level operation (POST [base]/$closure,
// the only form FHIR defines) and writes the server's closure table only,
// but a request without a type was followed as a possible write of every
// type whatever its operation: any caller with write scopes on all types could drop
// every patient's cached upstream consents at will (each response read
// them from the upstream again, and a mirror waited for a full sync).
func TestSystemClosureKeepsConsentsCachedQA36J(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted: %d, want 200", code)
	}
	before := u.fhir.searches.Load()
	u.do(http.MethodPost, "/fhir/$closure", tokOtherWriter, "application/fhir+json", `{"resourceType":"Parameters","parameter":[{"name":"name","valueString":"c1"}]}`)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("after POST $closure: %d, want 200", code)
	}
	if n := u.fhir.searches.Load(); n != before {
		t.Errorf("POST /$closure dropped the cached consents: %d consent searches, want %d", n, before)
	}
}
