package proxy

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// signDevClaims signs with key (devTokenVerifier's) a dev token for
// subject sub, issued a minute ago and valid for ten, with claims; a
// claim whose value is nil is left out.
func signDevClaims(t *testing.T, key jwk.Key, sub string, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	b := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject(sub).
		IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10 * time.Minute))
	for k, v := range claims {
		if v != nil {
			b = b.Claim(k, v)
		}
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// emergencyClaims are an ER clinician's break-the-glass claims in p1's
// context, with fhirUser as given.
func emergencyClaims(fhirUser any) map[string]any {
	return map[string]any{"org": "Organization/er", "scope": "patient/*.read", "patient": "p1", "fhirUser": fhirUser,
		"purpose_of_use": []any{"ETREAT"}, "break_glass_reason": "unresponsive, suspected overdose"}
}

// patientPortalClaims are jane's portal login claims: user scopes, no
// patient claim, fhirUser as given.
func patientPortalClaims(fhirUser any, scope string) map[string]any {
	return map[string]any{"scope": scope, "fhirUser": fhirUser, "purpose_of_use": []any{"PATRQT"}}
}

// verifiedHarness is a harness whose callers are authenticated by v, with
// a silent log.
func verifiedHarness(t *testing.T, handler http.HandlerFunc, v *authn.Verifier) *harness {
	return newHarness(t, handler, func(_ *Options, d *Deps) {
		d.Auth = v
		d.Logger = slog.New(slog.DiscardHandler)
	})
}
