package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// TestDecisionsCachedAcrossRequests: with the real consent store, a read
// repeated while the patient's consents are unchanged is decided from the
// engine's cache, not evaluated again. The engine serves cached consents
// and decisions only to the consent values they were built from
// (policy's consentSet.serves), so this holds only while the store hands
// out the same values for unchanged consents; a change there would cost
// every request its evaluations silently (it did so in a benchmark).
func TestDecisionsCachedAcrossRequests(t *testing.T) {
	t.Parallel()
	var eng *policy.Engine
	a := newConsentAPI(t, http.StatusOK, func(_ *Options, d *Deps) { eng = d.Decider.(*policy.Engine) })
	body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
	a.mustCall(http.MethodPut, "/admin/Consent/grant-a", strings.Replace(body, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"grant-a",`, 1), 201)
	read := func() int64 {
		before := eng.Evaluations()
		resp, got := a.get("/fhir/Condition/sud1", tokConsented)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("read %d: %s", resp.StatusCode, got)
		}
		return eng.Evaluations() - before
	}
	if n := read(); n == 0 {
		t.Fatal("the first read made no evaluation")
	}
	if n := read(); n != 0 {
		t.Errorf("the second read made %d evaluations, want 0 (decided from the cache)", n)
	}
}
