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

// TestPatientUserBlankSpellingQA39F: a patient's token whose fhirUser has a
// blank before the reference (" Patient/p1", "\tPatient/p1": a claim
// template's stray space) was no patient user (NamesPatient read a type
// segment only at the start or after a slash), so bindPatientUser left it
// unbound: with user/ scopes and no patient claim, jane's login read p2's
// Observation (200). It is a patient user now, refused unless a patient
// claim binds it (403), as "Patient/p1/" and "patient%2fp1" are.
func TestPatientUserBlankSpellingQA39F(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string {
		now := time.Now()
		tok, _ := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("jane@portal").
			IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10*time.Minute)).
			Claim("scope", "user/*.read").Claim("fhirUser", fhirUser).Claim("purpose_of_use", []any{"PATRQT"}).Build()
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	obs := `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
		d.Auth = v
		d.Logger = slog.New(slog.DiscardHandler)
	})
	for _, fu := range []string{" Patient/p1", "\tPatient/p1", "\u00a0Patient/p1", " https://other.example/fhir/Patient/p1"} {
		if resp, body := h.get("/fhir/Observation/o2", mint(fu)); resp.StatusCode != 403 || strings.Contains(body, `"o2"`) {
			t.Errorf("fhirUser %q, no patient claim: %d %.120s, want 403", fu, resp.StatusCode, body)
		}
	}
}
