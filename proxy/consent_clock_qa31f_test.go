package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
	"go.etcd.io/bbolt"
)

// newUpstreamSetupStoredAgo is newUpstreamSetup whose consent store
// stamps what it stores ago earlier than now: a local copy stored that
// long before, by the proxy's clock.
func newUpstreamSetupStoredAgo(t *testing.T, cfg ConsentSources, ago time.Duration) *upstreamSetup {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := consent.Open(db, consent.WithClock(func() time.Time { return time.Now().Add(-ago) }))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFHIR{}
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
	t.Cleanup(cancel)
	if cfg.Upstream == UpstreamSync {
		cancel() // the test runs the rounds itself
	}
	if err := srv.UseConsentSources(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	return &upstreamSetup{harness: hs, fhir: f, store: store, server: srv}
}

// skewUpstream makes u's upstream answer with a Date by a clock that runs
// skew ahead of the proxy's (behind when negative), as a FHIR server whose
// clock is off does.
func skewUpstream(u *upstreamSetup, skew time.Duration) {
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
		inner.ServeHTTP(w, r)
	})
}

// TestMergeReadsUpstreamStampsByItsClockQA31F: a local consent and its
// upstream copy (one id) are one consent, and the copy stored later wins
// (consent.Merge). The local copy's meta.lastUpdated is the proxy's clock,
// the upstream copy's the upstream's, and they were compared as they were:
// with the proxy's clock a minute ahead, a local permit outranked the
// revocation (or the narrowing) the EHR stored 20 s after it, and org-a
// read the SUD condition; with the upstream's clock a minute ahead, the
// EHR's older, wider copy outranked the local one that narrowed it 20 s
// later. The upstream's stamps are now read by its clock as its answers'
// Date tells it; two active copies that differ and cannot be told apart
// are both read as a denial.
func TestMergeReadsUpstreamStampsByItsClockQA31F(t *testing.T) {
	t.Parallel()
	type stamp func(localStored time.Time) time.Time
	tests := []struct {
		name      string
		skew      time.Duration // the upstream's clock less the proxy's
		localOrg  string        // the local copy permits
		upOrg     string        // the upstream copy permits
		upStatus  string
		upStamp   stamp // the upstream copy's meta.lastUpdated, by its clock
		wantOrgA  int
		wantOther int // org-b
	}{
		{"proxy ahead: the EHR revoked its copy 20 s after", -time.Minute, "Organization/org-a", "Organization/org-a", "inactive",
			func(l time.Time) time.Time { return l.Add(-time.Minute + 20*time.Second) }, http.StatusNotFound, http.StatusNotFound},
		// Within the clocks' difference, the stamps as they are and the
		// Date's clock order the copies differently: both deny, since the
		// Date may be a gateway's (QA round 32, area A).
		{"proxy ahead: the EHR narrowed its copy to org-b 20 s after", -time.Minute, "Organization/org-a", "Organization/org-b", "active",
			func(l time.Time) time.Time { return l.Add(-time.Minute + 20*time.Second) }, http.StatusNotFound, http.StatusNotFound},
		{"upstream ahead: the local copy narrowed to org-b 20 s after the EHR's", time.Minute, "Organization/org-b", "Organization/org-a", "active",
			func(l time.Time) time.Time { return l.Add(time.Minute - 20*time.Second) }, http.StatusNotFound, http.StatusNotFound},
		{"upstream ahead: the local copy narrowed to org-b 90 s after the EHR's", time.Minute, "Organization/org-b", "Organization/org-a", "active",
			func(l time.Time) time.Time { return l.Add(time.Minute - 90*time.Second) }, http.StatusNotFound, http.StatusOK},
		{"proxy ahead: the EHR's copy, stored within a second, says otherwise", -time.Minute, "Organization/org-a", "Organization/org-b", "active",
			func(l time.Time) time.Time { return l.Add(-time.Minute) }, http.StatusNotFound, http.StatusNotFound},
		{"proxy ahead: the EHR's copy, stored within a second, says the same", -time.Minute, "Organization/org-a", "Organization/org-a", "active",
			func(l time.Time) time.Time { return l.Add(-time.Minute) }, http.StatusOK, http.StatusNotFound},
		{"proxy ahead: the local copy is 20 s later than a revoked EHR copy", -time.Minute, "Organization/org-a", "Organization/org-a", "inactive",
			func(l time.Time) time.Time { return l.Add(-time.Minute - 20*time.Second) }, http.StatusOK, http.StatusNotFound},
	}
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				// The local copy stored 40 s ago: every upstream stamp
				// lies before the upstream's now, as a real one does.
				u := newUpstreamSetupStoredAgo(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour}, 40*time.Second)
				skewUpstream(u, tt.skew)
				local := strings.Replace(strings.Replace(apiConsent, "ORG", tt.localOrg, 1),
					`"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
				rec, err := u.store.Put(context.Background(), []byte(local))
				if err != nil {
					t.Fatal(err)
				}
				up := upstreamConsent("c1", "5", tt.upStamp(rec.Updated).UTC().Format("2006-01-02T15:04:05.000Z"), tt.upOrg)
				up = strings.Replace(up, `"status":"active"`, `"status":"`+tt.upStatus+`"`, 1)
				u.fhir.set(http.StatusOK, up)
				if mode == UpstreamSync {
					if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
						t.Fatal(err)
					}
				}
				if got := u.read(tokConsented); got != tt.wantOrgA {
					t.Errorf("org-a: %d, want %d", got, tt.wantOrgA)
				}
				if got := u.read(tokOther); got != tt.wantOther {
					t.Errorf("org-b: %d, want %d", got, tt.wantOther)
				}
			})
		}
	}
}

// TestMergeDoubtsStampsAheadOfTheDateQA31F: an upstream whose Date comes
// from a clock other than its stamps' (a gateway's clock a minute behind
// the FHIR server's, which agrees with the proxy's) made the merge read the
// EHR's wider copy, stored 20 s before the local copy narrowed it, as a
// minute later than it was: it won, and org-a read the SUD condition. A
// copy stamped after the answer that listed it, by the Date's clock, tells
// that the Date cannot order it: the copies are in doubt, and both deny.
func TestMergeDoubtsStampsAheadOfTheDateQA31F(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour})
		skewUpstream(u, -time.Minute) // the gateway's Date; the stamps are by the proxy's clock
		local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-b", 1),
			`"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
		rec, err := u.store.Put(context.Background(), []byte(local))
		if err != nil {
			t.Fatal(err)
		}
		u.fhir.set(http.StatusOK, upstreamConsent("c1", "5", rec.Updated.Add(-20*time.Second).UTC().Format("2006-01-02T15:04:05.000Z"), "Organization/org-a"))
		if mode == UpstreamSync {
			if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
				t.Fatal(err)
			}
		}
		if got := u.read(tokConsented); got != http.StatusNotFound {
			t.Errorf("%s: org-a %d, want 404", mode, got)
		}
	}
}
