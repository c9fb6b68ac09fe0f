package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/rego"
)

// TestConsoleCallsChargeAdminLimitQA40B (QA round 40, helper B): the
// calls the console answers itself (the break-the-glass queue, reviews,
// verification, charts) read the ledger the /admin API serves under the
// proxy's admin rate limit, but were charged to no bucket: with the
// admin limit spent, GET /admin/audit?break_glass=true was 429 while
// console/api/audit/breakglass kept answering every patient's emergency
// disclosures (200), each call appending an audit-read entry to the
// ledger, without end. They now take a token of the caller's admin
// buckets, as a relayed call does, and are refused with 429 and
// Retry-After when there is none.
func TestConsoleCallsChargeAdminLimitQA40B(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil) // for its bbolt-backed ledger
	db := openTempDB(t)
	consents, err := consent.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policy.New(t.Context(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL + "/fhir")
	srv, err := proxy.New(proxy.Options{Upstream: u, Protection: proxy.Protection{RateLimits: proxy.RateLimits{
		Enabled: true, Admin: proxy.Limit{Rate: 0.0001, Burst: 3},
	}}}, proxy.Deps{
		Labeller: labels.Default(), Decider: engine, Consents: consents, Ledger: f.ledger, Auth: fakeVerifier{},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := New(ctx, Config{Verifier: fakeVerifier{}, Admin: srv.Handler(), Ledger: f.ledger, Reviews: rs,
		Rules: func() []labels.Rule { return nil }, AdminLimit: srv.AllowAdmin})
	if err != nil {
		t.Fatal(err)
	}
	f.h = c
	if err := f.ledger.Append(t.Context(), entry("Patient/p1", f.clock.now(), []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, "aud|ds4p/auditor ds4p/policy-author")

	for _, call := range []string{"audit/breakglass", "audit/verify", "audit/stats", "labels/rules"} {
		// The subject's admin bucket holds 3 tokens and refills in hours:
		// whichever calls spend them, the fourth and later are refused.
		codes := []int{}
		for range 5 {
			rec := f.call(b, call, `{}`)
			codes = append(codes, rec.Code)
			if rec.Code == http.StatusTooManyRequests {
				if rec.Header().Get("Retry-After") == "" {
					t.Errorf("%s: 429 without Retry-After", call)
				}
				if !strings.Contains(rec.Body.String(), "rate limit") {
					t.Errorf("%s: 429 says %s", call, rec.Body)
				}
			}
		}
		if codes[len(codes)-1] != http.StatusTooManyRequests {
			t.Errorf("%s: with the admin limit spent, answers %v; want the last ones 429", call, codes)
		}
	}
	// The relayed call is refused as before: the console's own calls took
	// the same bucket's tokens.
	if rec := f.call(b, "audit/search", `{}`); rec.Code != http.StatusTooManyRequests {
		t.Errorf("audit/search: %d, want 429", rec.Code)
	}
	reads, err := f.ledger.Find(t.Context(), audit.Query{AuditReads: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) > 3 {
		t.Errorf("%d audit-read entries appended with an admin budget of 3", len(reads))
	}
}
