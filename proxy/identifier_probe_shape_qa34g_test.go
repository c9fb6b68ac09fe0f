package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdentifierListingPatientArrayOfOneQA34G: ds4p reads a consent whose
// patient is an array of one Reference naming it by MRN alone as that
// patient's (74625a8), but the identifier search's check and listing read
// only a patient written as one object: an opt-out so written by p1's MRN,
// listed while the check was unverified, was skipped, the search (which
// ignores the :identifier modifier) stayed trusted, and org-a read p1's
// SUD condition under its permit (200). The listing now checks the search
// with it, and the response is withheld.
func TestIdentifierListingPatientArrayOfOneQA34G(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var (
		mu    sync.Mutex
		burst bool
	)
	optOut := strings.Replace(mrnOptOut, `"patient":{"identifier":{"system":"urn:mrn","value":"123"}}`,
		`"patient":[{"identifier":{"system":"urn:mrn","value":"123"}}]`, 1)
	if optOut == mrnOptOut {
		t.Fatal("the opt-out's patient was not rewritten")
	}
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && (q.Has("_lastUpdated") || len(q) == 1 && q.Has("_count")): // a listing, a full check
			mu.Lock()
			b := burst
			mu.Unlock()
			if b {
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":`+optOut+`}]}`)(w, r)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(http.StatusOK, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("under the permit, no consent by MRN to check with: %d, want 200", code)
	}
	m := u.server.consents.(*sourcedConsents)
	if m.identifierProbe.Load() != identifierSearchUnverified {
		t.Fatal("the check did not end unverified")
	}
	mu.Lock()
	burst = true
	mu.Unlock()
	m.identifierListAt.Store(0) // the listing is due (as 10 seconds on)
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
		t.Errorf("an opt-out by p1's MRN with its patient an array of one was listed: %d %s, want the response withheld", resp.StatusCode, body)
	}
	if m.identifierProbe.Load() != identifierSearchIgnores {
		t.Error("the listed opt-out did not run the check: the search was not found ignoring the modifier")
	}
}
