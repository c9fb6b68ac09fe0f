package proxy

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TestPersonBreakGlassOddClaimQA39F: a fhirUser that names a RelatedPerson
// in a shape no reading of the proxy's takes (not a string: a JSON array
// or object an IdP's claim mapper writes; a leading blank, a urn, a
// doubly escaped or full-width slash) left Caller.PersonUser false, so an
// ETREAT token with a reason read p1's Part 2 Condition (200) by the 42
// CFR 2.51 rule and recorded a medical-emergency disclosure to a
// caregiver (7bc6e08 covers the spellings a type segment reads). Such a
// claim is no one the proxy knows to be medical personnel: the emergency
// claim is ignored (404). A clinician's claim, a practitioner's spelling
// FHIRUserRef cannot read, and a token with no fhirUser keep theirs.
func TestPersonBreakGlassOddClaimQA39F(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser any) string {
		now := time.Now()
		b := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("someone").
			IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10*time.Minute)).
			Claim("org", "Organization/er").Claim("scope", "patient/*.read").Claim("patient", "p1").
			Claim("purpose_of_use", []any{"ETREAT"}).Claim("break_glass_reason", "unresponsive, suspected overdose")
		if fhirUser != nil {
			b = b.Claim("fhirUser", fhirUser)
		}
		tok, _ := b.Build()
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth = v
		d.Logger = slog.New(slog.DiscardHandler)
	})
	for _, who := range []any{
		[]any{"RelatedPerson/mother"},
		[]any{"https://other.example/fhir/Person/carer"},
		map[string]any{"reference": "RelatedPerson/mother"},
		" RelatedPerson/mother",
		"urn:RelatedPerson:mother",
		"RelatedPerson%252Fmother",
		"RelatedPerson／mother",
	} {
		// 404, or 401 where the token is refused outright (a fhirUser
		// that is no string)
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 404 && resp.StatusCode != 401 || strings.Contains(body, "F11.20") {
			t.Errorf("%#v's emergency claim: %d %.120s, want 404", who, resp.StatusCode, body)
		}
	}
	for _, e := range h.ledger.entries {
		if e.BreakGlass != nil {
			t.Errorf("ledger records a 2.51 disclosure to someone not known as medical personnel: %+v", e.BreakGlass)
		}
	}
	for _, who := range []any{nil, "Practitioner/dr-er", "https://other.example/fhir/Practitioner/dr-er/_history/2"} {
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
			t.Errorf("%#v's emergency claim in the patient's context: %d %.120s", who, resp.StatusCode, body)
		}
	}
}
