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

// TestScopeSplitOnSpaceOnlyQA41D: a token's scope is scope-tokens
// separated by spaces (RFC 6749 3.3: %x20; a scope-token holds no other
// white space). strings.Fields split it on any Unicode white space too, so
// one scope an authorisation server granted as a single token by a
// pattern (SMART v2 granular scopes, patient/Observation.rs?category=*)
// whose value carried a no-break space, a tab or a line break before
// "user/*.cruds" gave the caller user/*.cruds on every patient. Only
// spaces separate scopes now; such a token is one scope, which grants only
// what it names.
func TestScopeSplitOnSpaceOnlyQA41D(t *testing.T) {
	t.Parallel()
	dir, v := newDevVerifier(t, authn.Config{CacheSize: -1})
	key, err := authn.DevSigningKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	scopesOf := func(scope string) []string {
		tok, err := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("s").
			IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).Claim("scope", scope).Build()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), string(signed))
		if err != nil {
			t.Fatal(err)
		}
		return c.Scopes
	}
	if got := scopesOf(" launch/patient  patient/Observation.rs openid "); !slices.Equal(got, []string{"launch/patient", "patient/Observation.rs", "openid"}) {
		t.Fatalf("space-separated scopes: %q", got)
	}
	for _, sep := range []string{"\u00a0", "\t", "\n", "\u2003", "\u0085"} {
		scope := "patient/Observation.rs?category=laboratory" + sep + "user/*.cruds"
		if got := scopesOf(scope); !slices.Equal(got, []string{scope}) {
			t.Errorf("scope %q read as %q, want one scope", scope, got)
		}
	}
}
