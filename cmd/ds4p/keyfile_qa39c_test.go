package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// TestKeyFileRefusesPrivateKeyQA39C (QA round 39, area C): auth.key_file
// holding the issuer's private signing key (PEM or a JWK with d) was
// taken without a word (the verifier keeps its public half), so the key
// that mints every caller's token sat on the proxy, readable by whoever
// reads its files or backups; policy.bundle_public_key refuses the bundle
// signer's private key for that reason. serve now refuses it before the
// data directory is made, naming the file; public keys still pass.
func TestKeyFileRefusesPrivateKeyQA39C(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	jwkJSON := func(k any) []byte {
		key, err := jwk.FromRaw(k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"ec-pkcs8.pem":  pkcs8(ec),
		"ec-sec1.pem":   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}),
		"rsa-pkcs1.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}),
		"ed25519.pem":   pkcs8(ed),
		"ec.jwk":        jwkJSON(ec),
		"rsa-set.jwks":  []byte(`{"keys":[` + string(jwkJSON(&ec.PublicKey)) + `,` + string(jwkJSON(rk)) + `]}`),
	} {
		f := write(name, content)
		data := filepath.Join(dir, "data-"+name)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"serve", "--upstream", "http://127.0.0.1:1/fhir", "--listen", "127.0.0.1:0", "--key-file", f, "--data", data}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "auth.key_file") || !strings.Contains(stderr.String(), "private key") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 naming auth.key_file and the private key", name, code, stderr.String())
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made: %v", name, err)
		}
	}
	// The public halves pass, in PEM and as a JWK Set.
	der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"rsa-pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"pub.jwks":    []byte(`{"keys":[` + string(jwkJSON(&ec.PublicKey)) + `,` + string(jwkJSON(&rk.PublicKey)) + `]}`),
	} {
		if err := checkKeyFile(write(name, content)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
