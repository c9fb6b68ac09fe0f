package policy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestUnsignedBundleNotFetchedOverRedirectToHTTP: an https bundle URL
// without a verification key trusts the server TLS authenticates; a
// redirect to plain http was followed, and whoever answered on that leg
// chose the policy, with no warning (serve warns of plain http only for
// the configured URL). A signed bundle may still be redirected anywhere.
func TestUnsignedBundleNotFetchedOverRedirectToHTTP(t *testing.T) {
	t.Parallel()
	gz, err := BuildBundle(rego.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	signed := signedBundle(t, rego.FS())
	var plainServed atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainServed.Add(1)
		if r.URL.Path == "/signed" {
			_, _ = w.Write(signed)
			return
		}
		_, _ = w.Write(gz)
	}))
	t.Cleanup(plain.Close)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/direct":
			_, _ = w.Write(gz)
		case "/same":
			http.Redirect(w, r, "/direct", http.StatusFound)
		default:
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
		}
	}))
	t.Cleanup(tls.Close)
	ctx := context.Background()

	src := &BundleSource{URL: tls.URL + "/bundle.tar.gz", Client: tls.Client(), Schemas: rego.FS()}
	if fsys, _, err := FetchBundle(ctx, src); err == nil || fsys != nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("unsigned bundle redirected from https to http: %v, %v; want it refused", fsys, err)
	}
	if err != nil && strings.Contains(err.Error(), plain.URL) {
		t.Errorf("the error names the redirect target: %v", err)
	}
	if n := plainServed.Load(); n != 0 {
		t.Errorf("the plain http server was asked %d times", n)
	}
	// https to https is followed.
	src = &BundleSource{URL: tls.URL + "/same", Client: tls.Client(), Schemas: rego.FS()}
	if _, _, err := FetchBundle(ctx, src); err != nil {
		t.Errorf("a redirect within https: %v", err)
	}
	// A signed bundle's signature is what is trusted.
	src = &BundleSource{URL: tls.URL + "/signed", Client: tls.Client(), Schemas: rego.FS(), Verification: verification(t)}
	if _, _, err := FetchBundle(ctx, src); err != nil {
		t.Errorf("a signed bundle redirected to http: %v", err)
	}
}
