package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// TestUpstreamCopyWithdrawnUnreadableQA31F: a local consent and its
// upstream copy (one id) are one consent, the later copy winning. An
// upstream copy that fails validation stands for a denial while it is
// active; once the EHR revoked it (status inactive), it was left out
// before the merge, and the local permit it replaced applied alone: org-a
// read the SUD condition because the EHR revoked the consent. A withdrawn
// copy now still takes part in the merge, as a copy that is not active.
func TestUpstreamCopyWithdrawnUnreadableQA31F(t *testing.T) {
	t.Parallel()
	local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
	bad := strings.Replace(upstreamConsent("c1", "5", "2099-01-01T00:00:00Z", "Organization/org-a"), `"actor"`, `"actors"`, 1)
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		for _, status := range []string{"active", "inactive"} {
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour})
			if _, err := u.store.Put(context.Background(), []byte(local)); err != nil {
				t.Fatal(err)
			}
			u.fhir.set(http.StatusOK, strings.Replace(bad, `"status":"active"`, `"status":"`+status+`"`, 1))
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("%s, the unreadable upstream copy %s: org-a %d, want 404", mode, status, code)
			}
			if mode != UpstreamSync || status != "inactive" {
				continue // an active one is a denying stand-in beside the permit
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
			merged, _, err := restarted.Normalized(context.Background(), "Patient/p1")
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range merged {
				for _, r := range n.Rules {
					if r.Type == "permit" && n.Status == "active" {
						t.Errorf("the unreadable upstream copy %s, after a restart: %s permits", status, n.ID)
					}
				}
			}
		}
	}
}
