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

// dateAheadWriter sets every answer's Date by a gateway's clock, skew
// ahead of the FHIR server's.
type dateAheadWriter struct {
	http.ResponseWriter
	skew time.Duration
}

func (w dateAheadWriter) WriteHeader(code int) {
	w.Header().Set("Date", time.Now().Add(w.skew).UTC().Format(http.TimeFormat))
	w.ResponseWriter.WriteHeader(code)
}

func (w dateAheadWriter) Write(b []byte) (int, error) {
	w.Header().Set("Date", time.Now().Add(w.skew).UTC().Format(http.TimeFormat))
	return w.ResponseWriter.Write(b)
}

// TestSyncPointByTheConsentsStampsQA33A: a sync round's point, from which
// the next round asks for consents changed since (_lastUpdated=gt), is the
// upstream's time as the first answer's Date tells it, moved back to the
// Bundle's own stamp when it has one (0d1bf28). A FHIR server whose search
// Bundles carry no meta.lastUpdated or timestamp (Medplum's carry neither),
// behind a gateway whose clock runs an hour ahead (or that writes its local
// time as GMT), put the point an hour in the server's future: the EHR's
// revocation, stamped by the server's clock, lay before it, no incremental
// round listed it, and org-a read the SUD condition under the revoked
// permit until the next full round (ten rounds later by default). The
// consents' own meta.lastUpdated are the server's clock: the point is no
// later than the newest of them (listing none, than the previous round's).
func TestSyncPointByTheConsentsStampsQA33A(t *testing.T) {
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
	// A round listing nothing keeps the point where it was.
	before := since
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if ahead := time.Until(since); ahead > 2*time.Second || since.Before(before.Add(-time.Second)) {
		t.Errorf("after a round listing nothing the point moved from %v to %v", before, since)
	}
}
