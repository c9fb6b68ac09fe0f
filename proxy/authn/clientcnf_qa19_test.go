package authn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// selfSigned is a client certificate with subject CN cn, DER-encoded, as
// a verified TLS connection presents it.
func selfSigned(t *testing.T, cn string) *tls.ConnectionState {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}}
}

// TestCertificateBoundToken: a token bound to a client certificate (cnf
// x5t#S256, RFC 8705) is accepted only over a connection presenting that
// certificate; over none, or another certificate of the same client, it is
// refused, as is a cnf claim with no thumbprint this package can hold the
// token to. A token without cnf is unaffected.
func TestCertificateBoundToken(t *testing.T) {
	t.Parallel()
	devToken := devTokenMaker(t)
	token := func(cnf any) authn.Caller {
		claims := map[string]any{"client_id": "app-a"}
		if cnf != nil {
			claims["cnf"] = cnf
		}
		return devToken(claims)
	}
	mine, other := selfSigned(t, "app-a"), selfSigned(t, "app-a")
	sum := sha256.Sum256(mine.PeerCertificates[0].Raw)
	thumb := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, tt := range []struct {
		name    string
		cnf     any
		cs      *tls.ConnectionState
		wantErr bool
	}{
		{"bound, its certificate", map[string]any{"x5t#S256": thumb}, mine, false},
		{"bound, padded thumbprint", map[string]any{"x5t#S256": thumb + "="}, mine, false},
		{"bound, no TLS", map[string]any{"x5t#S256": thumb}, nil, true},
		{"bound, TLS without a certificate", map[string]any{"x5t#S256": thumb}, &tls.ConnectionState{}, true},
		{"bound, the client's other certificate", map[string]any{"x5t#S256": thumb}, other, true},
		{"DPoP key binding", map[string]any{"jkt": thumb}, nil, true},
		{"cnf not an object", "x", mine, true},
		{"not bound, no TLS", nil, nil, false},
		{"not bound, a certificate", nil, other, false},
	} {
		caller := token(tt.cnf)
		err := authn.BindClient(&caller, tt.cs)
		if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, authn.ErrCertificateBoundToken) {
			t.Errorf("%s: %v, want error %v (ErrCertificateBoundToken)", tt.name, err, tt.wantErr)
		}
	}
}
