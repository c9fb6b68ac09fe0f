package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TestPassthroughKeepsCompartmentQA36J (QA round 36, area J, on 3dd1bc0):
// a token bound to p1's compartment (SMART launch context) calling an
// allowed operation at a type's level, Observation/$render?patient=p2, got
// the server's HTML of p2's record uninspected (200), and the ledger
// recorded it as a disclosure of p1's: p2's record left the compartment,
// listed in p1's accounting and not in p2's. The proxy cannot tell whose
// an uninspected answer is unless the request names one resource, which
// guardInstance checks is in the compartment; to a bound token any other
// is withheld as content the proxy cannot inspect.
func TestPassthroughKeepsCompartmentQA36J(t *testing.T) {
	t.Parallel()
	signed, v := p1LaunchToken(t)
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Patient/p1") {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>Patient/p2 " + storedSUD + "</pre></html>"))
	}
	h := newHarness(t, handler, func(o *Options, d *Deps) {
		d.Auth = v
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	resp, body := h.get("/fhir/Observation/$render?patient=p2", string(signed))
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "Patient/p2") {
		t.Errorf("bound token, another type's operation: %d %.200s, want it withheld", resp.StatusCode, body)
	}
	// The patient's own operation still passes, recorded under p1.
	resp, body = h.get("/fhir/Patient/p1/$render", string(signed))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
		t.Errorf("bound token, its patient's operation: %d %.200s", resp.StatusCode, body)
	}
}

// p1LaunchToken is a dev-signed token bound to p1's compartment (a SMART
// launch context: org-a, patient/*.read, TREAT), and the verifier that
// takes it, for the passthrough tests of bound tokens.
func p1LaunchToken(t *testing.T) ([]byte, *authn.Verifier) {
	t.Helper()
	key, v, _ := devTokenVerifier(t)
	now := time.Now()
	tok, _ := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("dr-x").
		IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10*time.Minute)).
		Claim("org", "Organization/org-a").Claim("scope", "patient/*.read").Claim("patient", "p1").
		Claim("purpose_of_use", []any{"TREAT"}).Build()
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
	if err != nil {
		t.Fatal(err)
	}
	return signed, v
}
