package proxy

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
)

// QA round 30 (area F), on 9fc0363: an older active version of a consent
// that a sync round's answer listed beside the current one keeps its
// denies in the mirror (a deny-only reading: TestSyncReplacesDenyOnly
// ReadingsQA30B). Those readings were kept in memory only: the mirror
// stored in the bbolt file holds the current version alone, so a proxy
// restarted on it, whose first round is incremental (only what changed
// since), served without the older version's opt-out until the next full
// round (ten rounds later by default), and org-a read the SUD condition
// the opt-out withheld before the restart.
func TestSyncDenyOnlyReadingsSurviveARestartQA30F(t *testing.T) {
	t.Parallel()
	v2 := upstreamConsent("u1", "2", "2026-02-01T00:00:00Z", "Organization/org-a")
	optOutV1 := `{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	u.fhir.set(200, v2, optOutV1)
	ctx := context.Background()
	sc := u.server.consents.(*sourcedConsents)
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	denyOnly := func(e upstreamEntry) bool {
		return slices.ContainsFunc(e.consents, func(n consent.Normalized) bool { return n.DenyOnly })
	}
	if e, err := sc.mirror.get("Patient/p1"); err != nil || !denyOnly(e) {
		t.Fatalf("before the restart: %+v, %v", e, err)
	}
	srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := srv.UseConsentSources(stopped, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	restarted := srv.consents.(*sourcedConsents)
	since, _ := restarted.resume(ctx)
	u.fhir.set(200) // nothing changed since
	if err := restarted.syncOnce(ctx, since, false); err != nil {
		t.Fatal(err)
	}
	if e, err := restarted.mirror.get("Patient/p1"); err != nil || !denyOnly(e) {
		t.Errorf("after a restart and an incremental round, the older version's opt-out is gone: %+v, %v", e, err)
	}
}
