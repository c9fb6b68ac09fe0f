package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// TestConsentVersionTieQA31F: an upstream answer listing two active
// versions of one consent with the same meta.lastUpdated and UUID
// versionIds (Medplum) gave the one listed first whole to the policy: the
// older permit to org-a listed before the version that moved it to org-z,
// and org-a read the SUD condition, on demand and in sync mode (after a
// restart too). The server's order cannot tell them apart, so both are now
// read as a denial.
func TestConsentVersionTieQA31F(t *testing.T) {
	t.Parallel()
	const stamp = "2026-03-01T00:00:00.000Z"
	permit := upstreamConsent("u1", "0d4b5f6e-1111-4c1e-9a6e-00000000000a", stamp, "Organization/org-a")
	narrowed := upstreamConsent("u1", "0d4b5f6e-1111-4c1e-9a6e-00000000000b", stamp, "Organization/org-z")
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		for _, list := range [][]string{{permit, narrowed}, {narrowed, permit}} {
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, SyncInterval: time.Hour, TTL: time.Hour})
			u.fhir.set(http.StatusOK, list...)
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			first := "the permit"
			if list[0] == narrowed {
				first = "the narrowed version"
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("%s, %s listed first: org-a read the SUD condition: %d, want 404", mode, first, code)
			}
			if mode != UpstreamSync {
				continue
			}
			// Restarted on the stored mirror, with nothing changed since.
			srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
				Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
			if err != nil {
				t.Fatal(err)
			}
			stopped, cancel := context.WithCancel(context.Background())
			cancel()
			if err := srv.UseConsentSources(stopped, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
				t.Fatal(err)
			}
			restarted := srv.consents.(*sourcedConsents)
			since, _ := restarted.resume(context.Background())
			u.fhir.set(http.StatusOK)
			if err := restarted.syncOnce(context.Background(), since, false); err != nil {
				t.Fatal(err)
			}
			e, err := restarted.mirror.get("Patient/p1")
			if err != nil || len(e.consents) == 0 {
				t.Fatalf("after a restart: %+v, %v", e, err)
			}
			for _, n := range e.consents {
				for _, r := range n.Rules {
					if r.Type == "permit" {
						t.Errorf("%s listed first: after a restart, %s %s permits (%s)", first, n.ID, n.Version, strings.Join(r.Conditions[len(r.Conditions)-1].Actors, ","))
					}
				}
			}
		}
	}
}
