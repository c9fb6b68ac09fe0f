package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestUpstreamConsentChangedUnderSameVersionQA28A: an upstream that
// changes a Consent without moving its meta.versionId (versioning off, a
// restore, a delete and re-create that starts again at 1) is still read
// as it now is once the consent TTL has passed: the policy engine's caches
// of consent forms and decisions, keyed by consent id and version, must
// not keep serving the old content.
func TestUpstreamConsentChangedUnderSameVersionQA28A(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	now := time.Now()
	sc := u.server.consents.(*sourcedConsents)
	sc.onDemand.now = func() time.Time { return now }
	sc.merged.now = func() time.Time { return now }
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u.fhir.set(200, granted)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted upstream: %d", code)
	}
	u.fhir.set(200, strings.Replace(granted, `"status":"active"`, `"status":"inactive"`, 1)) // versionId still 1
	now = now.Add(2 * time.Hour)
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("revoked upstream under the same versionId, after the TTL: %d, want 404", code)
	}
	// And granted again: the engine's forms follow the content both ways.
	u.fhir.set(200, granted)
	now = now.Add(2 * time.Hour)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted again under the same versionId, after the TTL: %d, want 200", code)
	}
}
