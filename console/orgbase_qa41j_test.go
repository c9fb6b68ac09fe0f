package console

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// orgURLVerifier is fakeVerifier whose subjects "far-..." carry another
// server's org URL and "near-..." this server's, both read as
// Organization/org-b (authn reads an absolute org URL as Type/id).
type orgURLVerifier struct{}

func (orgURLVerifier) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	c, err := fakeVerifier{}.Verify(ctx, raw)
	switch {
	case err != nil:
	case strings.HasPrefix(c.Subject, "far-"):
		c.Org, c.OrgURL = "Organization/org-b", "https://other.example/fhir/Organization/org-b"
	case strings.HasPrefix(c.Subject, "near-"):
		c.Org, c.OrgURL = "Organization/org-b", "https://ehr.example/fhir/Organization/org-b"
	}
	return c, err
}

// TestConsoleOrgURLOfAnotherServerQA41J (QA round 41, helper J, on H-2):
// the edge refuses a token whose org is another server's Organization URL,
// but console sign-in only verified the token, so such a token signed in
// and the session recorded its actions in the ledger as this server's
// Organization/org-b. It is refused at sign-in (401, no session) as the
// edge refuses it; this server's URL signs in; with no judge configured an
// absolute org URL is refused (fail closed).
func TestConsoleOrgURLOfAnotherServerQA41J(t *testing.T) {
	t.Parallel()
	near := func(c authn.Caller) bool { return strings.HasPrefix(c.OrgURL, "https://ehr.example/fhir/") }
	f := newFixture(t, func(c *Config) { c.Verifier, c.OrgBase = orgURLVerifier{}, near })
	rec := f.do("POST", "/console/api/login", `{"token":"far-1|ds4p/auditor"}`, map[string]string{"Content-Type": "application/json"})
	if rec.Code != http.StatusUnauthorized || len(rec.Result().Cookies()) != 0 {
		t.Errorf("another server's org URL: sign-in %d %s, cookies %v; want 401 and no session", rec.Code, rec.Body, rec.Result().Cookies())
	}
	if n := f.h.sessions.len(); n != 0 {
		t.Fatalf("%d sessions after another server's org signed in", n)
	}
	f.login(t, "near-1|ds4p/auditor") // fails the test unless it signs in

	g := newFixture(t, func(c *Config) { c.Verifier = orgURLVerifier{} })
	if rec := g.do("POST", "/console/api/login", `{"token":"near-1|ds4p/auditor"}`, map[string]string{"Content-Type": "application/json"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("no OrgBase: an absolute org URL signed in (%d), want 401", rec.Code)
	}
	g.login(t, "plain-1|ds4p/auditor")
}
