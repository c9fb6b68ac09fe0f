package authn_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TestClientClaimBlanksQA41D: auth.client_purposes limits a payer's app to
// HPAYMT. Its token whose client_id or azp a claim template wrote with a
// stray blank (" payer-app", "payer-app\u00a0", a zero-width space before
// it) named a client no limit is set for, so the app stated TREAT and had
// it. The blanks are trimmed, as around an org claim.
func TestClientClaimBlanksQA41D(t *testing.T) {
	t.Parallel()
	dir, v := newDevVerifier(t, authn.Config{CacheSize: -1,
		ClientPurposes: map[string][]string{"payer-app": {"HPAYMT"}},
	})
	key, err := authn.DevSigningKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, claims := range []map[string]any{
		{"client_id": "payer-app"},
		{"client_id": " payer-app"},
		{"client_id": "payer-app\u00a0"},
		{"client_id": "\u200bpayer-app"},
		{"azp": "\tpayer-app\n"},
		{"client_id": "ehr", "azp": "payer-app "},
	} {
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
		c, err := v.Verify(context.Background(), string(signed))
		if err != nil || !slices.Equal(c.Purposes, []string{authn.NotAllowedPurpose}) {
			t.Errorf("%q: %v, purposes %v; want TREAT not allowed", claims, err, c.Purposes)
		}
	}
}
