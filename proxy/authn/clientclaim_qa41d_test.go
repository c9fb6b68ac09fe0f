package authn_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TestNonStringClientClaimRefusedQA41D: auth.client_purposes limits a
// payer's app to HPAYMT. Its token whose client_id (or azp) an identity
// provider wrote as an array (["payer-app"]) was read as naming no client,
// so no limit held and the app stated TREAT and had it. Such a claim is
// refused (401), as an org or fhirUser that is not a string is.
func TestNonStringClientClaimRefusedQA41D(t *testing.T) {
	t.Parallel()
	dir, v := newDevVerifier(t, authn.Config{CacheSize: -1,
		ClientPurposes: map[string][]string{"payer-app": {"HPAYMT"}},
	})
	key, err := authn.DevSigningKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(claims map[string]any) (authn.Caller, error) {
		b := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("s").
			IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).Claim("purpose_of_use", "TREAT")
		for k, val := range claims {
			b = b.Claim(k, val)
		}
		tok, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		return v.Verify(context.Background(), string(signed))
	}
	for _, claims := range []map[string]any{{"client_id": "payer-app"}, {"azp": "payer-app"}, {"client_id": "ehr", "azp": "payer-app"}} {
		if c, err := verify(claims); err != nil || !slices.Equal(c.Purposes, []string{authn.NotAllowedPurpose}) {
			t.Fatalf("%v: %v, purposes %v; want TREAT not allowed", claims, err, c.Purposes)
		}
	}
	for _, claims := range []map[string]any{
		{"client_id": []any{"payer-app"}},
		{"azp": []any{"payer-app"}},
		{"client_id": "ehr", "azp": []any{"payer-app"}},
		{"client_id": map[string]any{"id": "payer-app"}},
	} {
		if c, err := verify(claims); !errors.Is(err, authn.ErrUnauthenticated) {
			t.Errorf("%v: %v, purposes %v; want refused", claims, err, c.Purposes)
		}
	}
}
