package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdentifierListingPageRefusedQA34G: on demand, while the known-answer
// check of Consent?patient:identifier= is unverified, the consents written
// since are listed. A page after the first answered 4xx (400: a page token
// the server no longer takes) was taken as the server refusing the
// listing: the search was trusted until the next check, 10 minutes on,
// with that page, an opt-out by p1's MRN on it, unread; org-a read p1's
// SUD condition under its permit (200). Only the first page's 4xx is a
// refusal; a later one leaves the response withheld.
func TestIdentifierListingPageRefusedQA34G(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var (
		mu    sync.Mutex
		burst bool
	)
	page1 := `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + u.upstream.URL +
		`/fhir/R4/Consent?_count=100&page=2"}],"entry":[{"resource":` +
		upstreamConsent("b1", "1", "2026-03-01T00:00:00Z", "Organization/org-a") + `}]}`
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("page"): // page 2, with the opt-out by p1's MRN: its token refused
			fhirJSONHandler(http.StatusBadRequest, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
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
			t.Errorf("response %d: the listing's page 2 refused (an opt-out by p1's MRN on it): %d %s, want it withheld", i, resp.StatusCode, body)
		}
	}
}
