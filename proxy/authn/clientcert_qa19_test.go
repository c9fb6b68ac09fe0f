package authn_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// verified is a connection whose verified client certificate has subject
// CN cn and URI SANs uris.
func verified(cn string, uris ...string) *tls.ConnectionState {
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
	for _, u := range uris {
		p, _ := url.Parse(u)
		leaf.URIs = append(leaf.URIs, p)
	}
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}}
}

// TestBindClientUnnamedCertificate: a verified client certificate naming
// no client (no URI SAN, no CN) binds no token: every token, whatever
// client it names, is refused over it, never accepted unbound.
func TestBindClientUnnamedCertificate(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"", "app-a"} {
		caller := authn.Caller{Subject: "s", Client: client}
		err := authn.BindClient(&caller, verified(""))
		if !errors.Is(err, authn.ErrUnnamedClientCertificate) || !errors.Is(err, authn.ErrClientCertificate) {
			t.Errorf("token of client %q over an unnamed certificate: %v, want ErrUnnamedClientCertificate", client, err)
		}
	}
	// No certificate, or one not verified: nothing to bind to.
	for name, cs := range map[string]*tls.ConnectionState{"no TLS": nil, "TLS without a certificate": {},
		"unverified": {PeerCertificates: []*x509.Certificate{{}}}} {
		caller := authn.Caller{Subject: "s", Client: "app-a"}
		if err := authn.BindClient(&caller, cs); err != nil || caller.Client != "app-a" {
			t.Errorf("%s: %v, client %q", name, err, caller.Client)
		}
	}
}
