package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// QA round 33, area E, on 5de66c0: the sync point is bounded by the
// newest meta.lastUpdated a round lists, so that a gateway's Date ahead
// of the server's clock cannot put it in the server's future. One consent
// stamped in the future (imported with its stamp, or written while the
// server's clock had run ahead before a step back), of any patient, is
// the newest of every round, since every incremental round lists it
// again: the bound is then no bound, the point runs an hour ahead by the
// gateway's Date, and the EHR's revocation of p1's permit went unread by
// incremental rounds: org-a read the SUD condition (200).
func TestSyncPointFutureStampQA33E(t *testing.T) {
	t.Parallel()
	f := &skewedFHIR{fakeFHIR: &fakeFHIR{}, stamped: map[string]time.Time{}, bodies: map[string]string{}}
	store := openConsentStore(t)
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.handler(dateAheadWriter{w, time.Hour}, r)
	}))
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
	cancel() // the test runs the rounds itself
	if err := srv.UseConsentSources(ctx, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	u := &upstreamSetup{harness: hs, fhir: f.fakeFHIR, store: store, server: srv}
	sc := srv.consents.(*sourcedConsents)

	active := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	f.put("u1", active)
	// Another patient's consent, stamped three hours ahead.
	other := strings.Replace(upstreamConsent("u9", "1", "2026-01-01T00:00:00Z", "Organization/org-a"), "Patient/p1", "Patient/p9", 1)
	at := time.Now().Add(3 * time.Hour)
	f.mu.Lock()
	f.stamped["u9"] = at
	f.bodies["u9"] = strings.Replace(other, `"lastUpdated":"2026-01-01T00:00:00Z"`, `"lastUpdated":"`+at.UTC().Format(time.RFC3339Nano)+`"`, 1)
	f.mu.Unlock()
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("consented: %d, want 200", code)
	}
	if ahead := time.Until(since); ahead > 2*time.Second {
		t.Errorf("the next round starts %v ahead of the server's clock", ahead.Round(time.Second))
	}
	revoked := strings.Replace(strings.Replace(active, `"status":"active"`, `"status":"inactive"`, 1), `"versionId":"1"`, `"versionId":"2"`, 1)
	f.put("u1", revoked)
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the EHR revoked the permit and an incremental round ran: %d, want 404", code)
	}
}
