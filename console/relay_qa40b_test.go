package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/rego"
)

// TestRelayKeepsRetryAfterQA40B (QA round 40, helper B): the console
// relays an /admin answer's status, content type and disposition, but not
// its Retry-After: the admin API's 429 (its rate limit) reached the page
// without the header that says when to try again, which /admin itself
// sends and the console's own 429 and 503 send.
func TestRelayKeepsRetryAfterQA40B(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
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
		Enabled: true, Admin: proxy.Limit{Rate: 0.0001, Burst: 1},
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
	if f.h, err = New(ctx, Config{Verifier: fakeVerifier{}, Admin: srv.Handler(), Ledger: f.ledger, Reviews: rs,
		Rules: func() []labels.Rule { return nil }}); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, auditorTok)
	if rec := f.call(b, "audit/search", `{}`); rec.Code != http.StatusOK {
		t.Fatalf("first search: %d %s", rec.Code, rec.Body)
	}
	rec := f.call(b, "audit/search", `{}`)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second search with a burst of 1: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Errorf("the relayed 429 has no Retry-After: %v", rec.Header())
	}
}
