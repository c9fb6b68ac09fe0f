package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// reusingSearches answers a search asked again as it answered it the first
// time, as HAPI FHIR reuses a search's results for a minute by default,
// unless the request says Cache-Control: no-cache.
func reusingSearches(next http.Handler) http.Handler {
	var (
		mu   sync.Mutex
		seen = map[string]*httptest.ResponseRecorder{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/fhir/R4/Consent" {
			next.ServeHTTP(w, r)
			return
		}
		key := r.URL.RawQuery
		mu.Lock()
		rec, ok := seen[key]
		mu.Unlock()
		if !ok || strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
			rec = httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			mu.Lock()
			seen[key] = rec
			mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// TestRevocationThroughProxyOnAServerReusingSearchesQA32C: a consent
// revoked by a PUT through ds4p's /fhir counts for every response that
// starts after ds4p answered it (QA round 28): the patient's consents are
// read again. HAPI FHIR answers a search asked again within a minute with
// the results it found the first time, unless told not to, so the read
// again was the consent before its revocation, and org-a read the SUD
// condition under the revoked permit for up to a minute. ds4p's reads of
// the upstream now say Cache-Control: no-cache.
func TestRevocationThroughProxyOnAServerReusingSearchesQA32C(t *testing.T) {
	t.Parallel()
	f := &consentWriteUpstream{fakeFHIR: &fakeFHIR{}, written: map[string]string{}}
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	f.written["u1"] = granted
	f.set(200, granted)
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(reusingSearches(http.HandlerFunc(f.handler)))
	t.Cleanup(hs.upstream.Close)
	u, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: fakeAuth{}, Consents: openConsentStore(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.UseConsentSources(context.Background(), ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)

	if resp, body := hs.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("granted by the upstream consent: %d %s", resp.StatusCode, body)
	}
	revoked := strings.Replace(granted, `"status":"active"`, `"status":"inactive"`, 1)
	resp, body := hs.do(http.MethodPut, "/fhir/Consent/u1", tokConsentWriter, "application/fhir+json", revoked)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoking PUT: %d %s", resp.StatusCode, body)
	}
	if resp, body := hs.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != http.StatusNotFound {
		t.Errorf("read after ds4p answered the revocation: %d %s, want 404 (withheld)", resp.StatusCode, body)
	}
}
