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

// skewedFHIR is a fakeFHIR whose clock runs behind the proxy's by skew:
// its Consent search honours _lastUpdated=gt... against the consents'
// meta.lastUpdated (stamped by its clock) and answers with its Date.
type skewedFHIR struct {
	*fakeFHIR
	skew time.Duration
	mu   sync.Mutex
	// consents with the upstream time each was last updated
	stamped map[string]time.Time
	bodies  map[string]string
}

func (f *skewedFHIR) now() time.Time { return time.Now().Add(-f.skew) }

// put stores consent id as of now by the upstream's clock.
func (f *skewedFHIR) put(id, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := f.now()
	f.stamped[id] = at
	f.bodies[id] = strings.Replace(body, `"lastUpdated":"2026-01-01T00:00:00Z"`, `"lastUpdated":"`+at.UTC().Format(time.RFC3339Nano)+`"`, 1)
}

func (f *skewedFHIR) handler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/fhir/R4/Consent" {
		f.fakeFHIR.handler(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var after time.Time
	if gt, ok := strings.CutPrefix(r.URL.Query().Get("_lastUpdated"), "gt"); ok {
		after, _ = time.Parse(time.RFC3339, gt)
	}
	var entries []string
	for id, at := range f.stamped {
		if after.IsZero() || at.After(after) {
			entries = append(entries, `{"resource":`+f.bodies[id]+`,"search":{"mode":"match"}}`)
		}
	}
	w.Header().Set("Date", f.now().UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/fhir+json")
	_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Join(entries, ",") + `]}`))
}

// TestUpstreamSyncSeesRevocationDespiteSkew: with consents synchronised
// from an upstream whose clock runs 30 s behind the proxy's, a consent
// revoked upstream just after a round began stops disclosing after the
// next round. The next round asked for _lastUpdated after the proxy's
// time of the previous round's start, which the revocation's stamp (by the
// upstream's clock) lay before: incremental rounds missed it until the
// next full one, ten rounds later by default, and the revoked consent kept
// disclosing (QA round 26, area A).
func TestUpstreamSyncSeesRevocationDespiteSkew(t *testing.T) {
	t.Parallel()
	f := &skewedFHIR{fakeFHIR: &fakeFHIR{}, skew: 30 * time.Second, stamped: map[string]time.Time{}, bodies: map[string]string{}}
	store := openConsentStore(t)
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(f.handler))
	t.Cleanup(hs.upstream.Close)
	up, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: up, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: fakeAuth{}, Consents: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the test runs the rounds itself; the loop stops at once
	if err := srv.UseConsentSources(ctx, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	u := &upstreamSetup{harness: hs, fhir: f.fakeFHIR, store: store, server: srv}
	sc := srv.consents.(*sourcedConsents)

	active := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	f.put("u1", active)
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("consented: %d, want 200", code)
	}
	revoked := strings.Replace(active, `"status":"active"`, `"status":"inactive"`, 1)
	if revoked == active {
		t.Fatal("fixture changed: no status to revoke")
	}
	f.put("u1", strings.Replace(revoked, `"versionId":"1"`, `"versionId":"2"`, 1))
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the upstream revoked the consent and a round ran: %d, want 404", code)
	}
}
