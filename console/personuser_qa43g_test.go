package console

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// personVerifier is fakeVerifier for a token whose fhirUser names a
// RelatedPerson or a Person (authn.Caller.PersonUser) and that carries no
// patient claim.
type personVerifier struct{}

func (personVerifier) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	c, err := fakeVerifier{}.Verify(ctx, raw)
	if err != nil {
		return c, err
	}
	if strings.HasPrefix(c.Subject, "rel-") {
		c.FHIRUser, c.PersonUser = "RelatedPerson/rp-7", true
	}
	return c, nil
}

// TestPersonUserRefusedByConsoleQA43G (QA round 43, helper G): since
// e1da69d the edge refuses a RelatedPerson's or Person's token with no
// patient claim on every route, /admin included, and /admin refuses such a
// token with one (it is patient-side); the console's sign-in let the
// unbound one in with ds4p/auditor, and its own pages (the break-the-glass
// queue, reviews, verification, charts) read every patient's ledger
// entries. It is refused as a patient's token is.
func TestPersonUserRefusedByConsoleQA43G(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Verifier = personVerifier{} })
	rec := f.do("POST", "/console/api/login", `{"token":"rel-1|ds4p/auditor"}`, map[string]string{"Content-Type": "application/json"})
	if rec.Code != http.StatusForbidden || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("a caregiver's unbound token signed in: %d %s", rec.Code, rec.Body)
	}
	if n := f.h.sessions.len(); n != 0 {
		t.Fatalf("%d sessions after the caregiver's sign-in", n)
	}
	// A clinician's token still signs in.
	f.login(t, "dr-1|ds4p/auditor")
}
