package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdentifierListingWriteRaceQA34E: on demand, the identifier search
// unverified and trusted between listings. A consent write through ds4p
// (an opt-out by p1's MRN) ends while the known-answer check is under way,
// its listing of consents answered before the write: the write made the
// listing of the consents written since due at once, but the check, ending
// after it, put the listing 10 seconds on and trusted the search till then. The next response trusted the search
// (which ignores the modifier) and org-a read p1's SUD condition under its
// permit (200). A write during a check now leaves the listing due at once.
func TestIdentifierListingWriteRaceQA34E(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var (
		mu        sync.Mutex
		blockNext bool
		entered   = make(chan struct{})
		release   = make(chan struct{})
	)
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && !q.Has("patient") && q.Get("_id") == "":
			mu.Lock()
			block := blockNext
			blockNext = false
			mu.Unlock()
			if block {
				// The answer as it was before the write; sent after it.
				rec := httptest.NewRecorder()
				inner.ServeHTTP(rec, r)
				close(entered)
				<-release
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(http.StatusOK, permit)
	m := u.server.consents.(*sourcedConsents)
	mu.Lock()
	blockNext = true
	mu.Unlock()
	first := make(chan int)
	go func() { first <- u.read(tokConsented) }()
	<-entered
	// The write ends while the check is under way.
	done := u.server.consentWriting(http.MethodPut, fhirRequest{Type: "Consent", ID: "u2", Interaction: Update})
	u.fhir.set(http.StatusOK, permit, mrnOptOut)
	done()
	close(release)
	<-first
	if m.identifierProbe.Load() != identifierSearchUnverified {
		t.Fatal("the check did not end unverified")
	}
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
		t.Errorf("an opt-out by p1's MRN written during a check, the search ignoring the modifier: %d %s, want the response withheld", resp.StatusCode, body)
	}
}
