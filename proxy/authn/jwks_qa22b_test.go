package authn

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestJWKSNameAmbiguousCredentials (QA round 22, area B): a JWKS URL whose
// password holds an unescaped "/" (base64 secrets do) parses as host
// "idp-user", port 12 and a path holding the rest of the password and the
// real host. jwksName dropped the userinfo it did not see and showed the
// rest, the password with it, in /readyz (which needs no sign-in) and the
// verifier's errors; the dial's error named the user as the host it could
// not find. Such a URL is now withheld whole (urltext.URL), and so is the
// error of a request to it.
func TestJWKSNameAmbiguousCredentials(t *testing.T) {
	t.Parallel()
	const secret = "Zs3cretPW"
	for _, u := range []string{
		"http://idp-user:12/" + secret + "@127.0.0.1:1/jwks",
		"http://idp-user:12?" + secret + "@127.0.0.1:1/jwks",
	} {
		v, err := NewVerifier(context.Background(), Config{JWKSURL: u, Issuer: "https://idp", Audience: "ds4p", CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rerr := v.ReadyCheck(ctx)
		cancel()
		if rerr == nil || strings.Contains(rerr.Error(), secret) || strings.Contains(rerr.Error(), "idp-user") {
			t.Errorf("ReadyCheck with %s: %v", u, rerr)
		}
	}
}
