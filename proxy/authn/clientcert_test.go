package authn

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"testing"
)

func TestBindClient(t *testing.T) {
	cn := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: "app-a"}}}}}
	uri, _ := url.Parse("spiffe://example/app-b")
	san := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: "ignored"}, URIs: []*url.URL{uri}}}}}
	unverified := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Subject: pkix.Name{CommonName: "app-a"}}}}
	for name, c := range map[string]struct {
		cs         *tls.ConnectionState
		client     string
		wantClient string
		wantErr    bool
	}{
		"no TLS":                       {nil, "x", "x", false},
		"unverified certificate":       {unverified, "", "", false},
		"no client takes the CN":       {cn, "", "app-a", false},
		"same client":                  {cn, "app-a", "app-a", false},
		"another client":               {cn, "app-z", "app-z", true},
		"URI SAN first":                {san, "", "spiffe://example/app-b", false},
		"URI SAN against another name": {san, "ignored", "ignored", true},
	} {
		caller := Caller{Subject: "s", Client: c.client}
		err := BindClient(&caller, c.cs)
		if (err != nil) != c.wantErr || (err != nil && !errors.Is(err, ErrClientCertificate)) || caller.Client != c.wantClient {
			t.Errorf("%s: client %q, err %v", name, caller.Client, err)
		}
	}
}
