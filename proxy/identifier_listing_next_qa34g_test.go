package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdentifierListingUnfollowableNextQA34G: on demand, while the
// known-answer check of Consent?patient:identifier= is unverified, the
// consents written since are listed. A page whose next link ds4p does not
// follow (not a Consent search of the upstream) was taken as the last
// page: the time listed from moved on, and the consents on the pages left,
// an opt-out by p1's MRN among them, were never listed; org-a read p1's
// SUD condition under its permit (200). The sync round and the history
// reading fail on such a link; so does the listing now, and the response
// that ran it is withheld.
func TestIdentifierListingUnfollowableNextQA34G(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var (
		mu    sync.Mutex
		burst bool
	)
	page1 := `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + u.upstream.URL +
		`/fhir/R4/Bundle/page-cache?page=2"}],"entry":[{"resource":` +
		upstreamConsent("b1", "1", "2026-03-01T00:00:00Z", "Organization/org-a") + `}]}`
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Bundle/page-cache": // page 2: the opt-out by p1's MRN
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":`+mrnOptOut+`}]}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && (q.Has("_lastUpdated") || len(q) == 1 && q.Has("_count")): // a listing, a full check
			mu.Lock()
			b := burst
			mu.Unlock()
			if b {
				fhirJSONHandler(http.StatusOK, page1)(w, r)
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
	for i := range 2 {
		m.identifierListAt.Store(0) // the listing is due (as 10 seconds on)
		resp, body := u.get("/fhir/Condition/sud1", tokConsented)
		if resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
			t.Errorf("response %d: the listing's page 2 (an opt-out by p1's MRN) unread: %d %s, want it withheld", i, resp.StatusCode, body)
		}
	}
}
