package authn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestJWKSNotFetchedOverRedirectToHTTPQA41D: an https JWKS URL trusts the
// issuer TLS authenticates, but the JWKS client followed a redirect to
// plain http, where anyone on the network path answers with their own
// keys and mints any token ds4p accepts, an admin's included (serve warns
// of plain http only for the configured URL). Such a redirect is refused
// (no keys: 503), as the policy bundle's is (62831c9); a redirect within
// https is followed.
func TestJWKSNotFetchedOverRedirectToHTTPQA41D(t *testing.T) {
	t.Parallel()
	attacker := newIssuer(t) // plain http: whoever answers on the path
	attacker.addKey(t, "evil", true)
	legit := newIssuer(t)
	legit.addKey(t, "k1", true)
	legitSet := legit.publicSet(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/direct":
			w.Header().Set("Content-Type", "application/jwk-set+json")
			_, _ = w.Write(legitSet)
		case "/same":
			http.Redirect(w, r, "/direct", http.StatusFound)
		default:
			http.Redirect(w, r, attacker.srv.URL+"/jwks?k=secret", http.StatusFound)
		}
	}))
	t.Cleanup(tlsSrv.Close)
	verifier := func(path string) *Verifier {
		v, err := NewVerifier(context.Background(), Config{JWKSURL: tlsSrv.URL + path, JWKSClient: tlsSrv.Client(),
			Issuer: "https://idp", Audience: "ds4p", Skew: time.Second, CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c, err := verifier("/jwks").Verify(context.Background(), attacker.token(t, "evil"))
	if err == nil {
		t.Fatalf("a token signed with the key served over the http leg was accepted: subject %q", c.Subject)
	}
	if !errors.Is(err, ErrKeysUnavailable) || strings.Contains(err.Error(), attacker.srv.URL) || strings.Contains(err.Error(), "secret") {
		t.Errorf("err = %v, want keys unavailable, not naming the redirect target", err)
	}
	if n := attacker.fetches.Load(); n != 0 {
		t.Errorf("the plain http server was asked %d times", n)
	}
	// https to https is followed.
	if _, err := verifier("/same").Verify(context.Background(), legit.token(t, "k1")); err != nil {
		t.Errorf("a redirect within https: %v", err)
	}
}
