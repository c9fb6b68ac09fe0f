package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// TestSyncWithdrawnConsentOlderPermitStaysDenyOnlyAfterRestartQA31C: an
// answer listing two versions of a consent whose newer one withdraws it
// (it is no longer a privacy consent) keeps the older version's denies
// alone, stored as <id>/_history/<n> (8128ee7). After a restart those
// stored versions were read back as the consent itself: with the newer
// version's entry gone, the older one won consent.OneEach and went to the
// policy whole, its permit included, and org-a read the SUD condition the
// withdrawn consent no longer permitted.
func TestSyncWithdrawnConsentOlderPermitStaysDenyOnlyAfterRestartQA31C(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	withdrawn := strings.Replace(upstreamConsent("u1", "2", "2026-01-01T00:00:00Z", "Organization/org-a"), "patient-privacy", "research", 1)
	f.put("u1", withdrawn)
	f.older = []string{`{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2025-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
	  "provision":{"type":"permit","provision":[{"type":"deny",
	    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-b"}}]}]}}`}
	f.mu.Lock()
	f.tick = f.tick.Add(time.Minute) // the rounds' overlap lists nothing again
	f.mu.Unlock()
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("before the restart: org-a %d, want 404 (the consent was withdrawn; its older version only denies)", code)
	}
	srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: u.server.decider, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(bg)
	cancel()
	if err := srv.UseConsentSources(stopped, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	r := srv.consents.(*sourcedConsents)
	since, round = r.resume(bg)
	if err := r.syncRound(bg, &since, &round); err != nil { // incremental: nothing changed
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/fhir/Condition/sud1", nil)
	req.Header.Set("Authorization", "Bearer "+tokConsented)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("after a restart: org-a %d, want 404 (as before it)", resp.StatusCode)
	}
	e, err := r.mirror.get("Patient/p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.consents) == 0 {
		t.Error("after a restart the older version's denies are gone")
	}
	for _, n := range e.consents {
		if !n.DenyOnly {
			t.Errorf("after a restart the mirror holds %s (version %s) whole, permits included; only its denies applied before", n.ID, n.Version)
		}
	}
}
