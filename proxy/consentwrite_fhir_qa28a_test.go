package proxy

import (
	"context"
	"io"
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

// consentWriteUpstream is a fakeFHIR that also stores a Consent PUT to it
// (and answers reads of it), as a FHIR server does.
type consentWriteUpstream struct {
	*fakeFHIR
	mu      sync.Mutex
	written map[string]string
}

func (u *consentWriteUpstream) handler(w http.ResponseWriter, r *http.Request) {
	id, isConsent := strings.CutPrefix(r.URL.Path, "/fhir/R4/Consent/")
	switch {
	case isConsent && r.Method == http.MethodPut:
		raw, _ := io.ReadAll(r.Body)
		body := strings.Replace(string(raw), `"meta":{"versionId":"1"`, `"meta":{"versionId":"2"`, 1)
		u.mu.Lock()
		u.written[id] = body
		u.mu.Unlock()
		u.set(200, body)
		fhirJSONHandler(http.StatusOK, body)(w, r)
	case isConsent && r.Method == http.MethodGet:
		u.mu.Lock()
		body, ok := u.written[id]
		u.mu.Unlock()
		if !ok {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusOK, body)(w, r)
	default:
		u.fakeFHIR.handler(w, r)
	}
}

// TestConsentRevokedThroughProxySeenAtOnceQA28A: a consent the upstream
// holds (consents.upstream on_demand), revoked by a PUT through ds4p's
// /fhir (status inactive), counts for every request that starts after
// ds4p answered the PUT, not after the upstream consent TTL: ds4p itself
// forwarded the revocation.
func TestConsentRevokedThroughProxySeenAtOnceQA28A(t *testing.T) {
	t.Parallel()
	f := &consentWriteUpstream{fakeFHIR: &fakeFHIR{}, written: map[string]string{}}
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	f.written["u1"] = granted
	f.set(200, granted)
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(f.handler))
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
		t.Fatalf("read after ds4p answered the revocation: %d %s, want 404 (withheld)", resp.StatusCode, body)
	}
}
