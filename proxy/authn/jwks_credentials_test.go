package authn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/urltext"
)

// An identity provider's credentials in the JWKS URL (a password before the
// host, an API key in the query) are never in an error: /readyz, which
// needs no sign-in, and the edge's log show these errors (QA round 21).
func TestJWKSErrorsNameNoCredentials(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); slow.Close() })
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	const secret = "s3cretPW"
	for _, base := range []string{down.URL, slow.URL} {
		u := strings.Replace(base, "http://", "http://idp-user:"+secret+"@", 1) + "/jwks?api_key=" + secret + "#" + secret
		v, err := NewVerifier(context.Background(), Config{JWKSURL: u, Issuer: "https://idp", Audience: "ds4p", CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rerr := v.ReadyCheck(ctx)
		cancel()
		if rerr == nil || strings.Contains(rerr.Error(), secret) || !strings.Contains(rerr.Error(), base+"/jwks") {
			t.Errorf("ReadyCheck against %s: %v", base, rerr)
		}
		if base == slow.URL {
			continue // the fetch is still waiting
		}
		_, verr := v.Verify(context.Background(), "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln")
		if verr == nil || strings.Contains(verr.Error(), secret) {
			t.Errorf("Verify against %s: %v", base, verr)
		}
	}
	if n := urltext.URL("http://a:b@[::1"); strings.Contains(n, "b@") {
		t.Errorf("a URL that does not parse is named %q", n)
	}
}
