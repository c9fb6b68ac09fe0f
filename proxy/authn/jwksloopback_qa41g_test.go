package authn

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestJWKSLoopbackNotRedirectedOffHostQA41G: serve warns of a plain http
// JWKS URL only when its host is not a loopback one, so a local sidecar at
// http://127.0.0.1 is taken as safe. 7181648 refuses a redirect from https
// to http only: the sidecar's redirect to http://idp.example.test (an IdP
// whose public hostname is set to http) was followed, and whoever answers
// on that network leg serves their own keys and mints any token. A
// redirect to plain http on another host than the configured one is
// refused unless that host is a loopback one.
func TestJWKSLoopbackNotRedirectedOffHostQA41G(t *testing.T) {
	t.Parallel()
	attacker := newIssuer(t) // stands for whoever answers idp.example.test
	attacker.addKey(t, "evil", true)
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://idp.example.test/jwks", http.StatusFound)
	}))
	t.Cleanup(local.Close)
	// Any host the client dials reaches the attacker, except the sidecar.
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == strings.TrimPrefix(local.URL, "http://") {
			return d.DialContext(ctx, network, addr)
		}
		return d.DialContext(ctx, network, strings.TrimPrefix(attacker.srv.URL, "http://"))
	}}}
	v, err := NewVerifier(context.Background(), Config{JWKSURL: local.URL + "/jwks", JWKSClient: client,
		Issuer: "https://idp", Audience: "ds4p", Skew: time.Second, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), attacker.token(t, "evil"))
	if err == nil {
		t.Fatalf("a token signed with the key served over the off-host plain http leg was accepted: subject %q", c.Subject)
	}
	if !errors.Is(err, ErrKeysUnavailable) || strings.Contains(err.Error(), "idp.example.test") {
		t.Errorf("err = %v, want keys unavailable, not naming the redirect target", err)
	}
	if n := attacker.fetches.Load(); n != 0 {
		t.Errorf("the off-host plain http server was asked %d times", n)
	}
}
