package authn

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// A key checks a token's signature only with the algorithm the token's
// header names, and only when the issuer published it for that: its use
// is sig (or unset), its key_ops include verify (or are unset), and its
// own alg (when set) is the header's. jwx verified with the key's alg, so
// a header saying PS256 passed with an RS256 signature, and a key
// published with key_ops ["encrypt"] checked signatures (QA round 26,
// area B).
func TestKeyUseAndAlgBindTheSignature(t *testing.T) {
	t.Parallel()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := jwk.FromRaw(priv)
	pub, _ := k.PublicKey()
	verifier := func(mod func(jwk.Key)) *Verifier {
		p, _ := pub.Clone()
		mod(p)
		set := jwk.NewSet()
		_ = set.AddKey(p)
		b, _ := json.Marshal(set)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) }))
		t.Cleanup(srv.Close)
		v, err := NewVerifier(context.Background(), Config{JWKSURL: srv.URL, CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// token signs with alg and names header in its header.
	token := func(alg jwa.SignatureAlgorithm, header string) string {
		tk, _ := jwt.NewBuilder().Subject("s").Expiration(time.Now().Add(time.Hour)).Build()
		payload, _ := json.Marshal(tk)
		hb := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + header + `","typ":"JWT"}`))
		input := hb + "." + base64.RawURLEncoding.EncodeToString(payload)
		signer, err := jws.NewSigner(alg)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := signer.Sign([]byte(input), priv)
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	set := func(name string, v any) func(jwk.Key) { return func(k jwk.Key) { _ = k.Set(name, v) } }
	none := func(jwk.Key) {}
	cases := []struct {
		name string
		key  func(jwk.Key)
		tok  string
		ok   bool
	}{
		{"plain key, RS256", none, token(jwa.RS256, "RS256"), true},
		{"plain key, PS256", none, token(jwa.PS256, "PS256"), true},
		{"alg RS256 key, RS256", set("alg", "RS256"), token(jwa.RS256, "RS256"), true},
		{"use sig, key_ops verify", func(k jwk.Key) { _ = k.Set("use", "sig"); _ = k.Set("key_ops", []string{"verify"}) }, token(jwa.RS256, "RS256"), true},
		{"header PS256, RS256 signature, key alg RS256", set("alg", "RS256"), token(jwa.RS256, "PS256"), false},
		{"header RS512, RS256 signature, key alg RS256", set("alg", "RS256"), token(jwa.RS256, "RS512"), false},
		{"header RS256, PS256 signature, key alg PS256", set("alg", "PS256"), token(jwa.PS256, "RS256"), false},
		{"header PS256, RS256 signature, plain key", none, token(jwa.RS256, "PS256"), false},
		{"header ES256 on an RSA key", none, token(jwa.RS256, "ES256"), false},
		{"key_ops encrypt only", set("key_ops", []string{"encrypt"}), token(jwa.RS256, "RS256"), false},
		{"key_ops wrapKey only", set("key_ops", []string{"wrapKey"}), token(jwa.RS256, "RS256"), false},
		{"use enc", set("use", "enc"), token(jwa.RS256, "RS256"), false},
	}
	for _, c := range cases {
		_, err := verifier(c.key).Verify(context.Background(), c.tok)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case !c.ok && !errors.Is(err, ErrUnauthenticated):
			t.Errorf("%s: err = %v, want ErrUnauthenticated", c.name, err)
		}
	}
}
