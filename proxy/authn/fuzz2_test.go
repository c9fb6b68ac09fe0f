package authn_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// FuzzVerify feeds the verifier random and JWT-shaped tokens: none panics,
// every refusal is ErrUnauthenticated, and no input but a token signed by
// the trusted key is accepted, so that whatever is accepted names exactly
// the caller that key signed for. The cache is off, so each input is
// parsed and checked.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	valid, err := authn.MintDev(dir, authn.DevClaims{
		Subject: "dr-fuzz", Org: "Organization/org-f", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}, TTL: 24 * time.Hour,
	})
	if err != nil {
		f.Fatal(err)
	}
	keys, err := authn.DevPublicKeys(dir)
	if err != nil {
		f.Fatal(err)
	}
	v, err := authn.NewVerifier(context.Background(), authn.Config{
		DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience, Skew: 5 * time.Second, CacheSize: -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(valid, ".")
	f.Add(valid, "", "", "")
	f.Add("", `{"alg":"none","typ":"JWT"}`, `{"sub":"x","exp":99999999999}`, "")
	f.Add("", `{"alg":"HS256","typ":"JWT"}`, `{"sub":"x","exp":99999999999,"scope":"user/*.*"}`, "c2ln")
	f.Add("", `{"alg":"ES256","kid":"../../etc/passwd"}`, `{"sub":"x"}`, "AAAA")
	f.Add("", `{"alg":"ES256","jku":"http://evil/jwks","x5u":"http://evil"}`, `{"sub":"x","exp":1}`, parts[2])
	f.Add("", `{"alg":"ES256","crit":["b64"],"b64":false}`, "{}", parts[2])
	f.Add(parts[0]+"."+parts[1]+".", "", "", "")
	f.Add(valid+"."+parts[2], "", "", "")
	f.Add(strings.Repeat("a.", 3), "", "", "")
	f.Fuzz(func(t *testing.T, raw, header, payload, sig string) {
		if raw == "" { // a JWT-shaped token from its parts
			raw = b64([]byte(header)) + "." + b64([]byte(payload)) + "." + sig
		}
		c, err := v.Verify(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, authn.ErrUnauthenticated) {
				t.Fatalf("a refusal that is not ErrUnauthenticated: %v", err)
			}
			return
		}
		if c.Subject != "dr-fuzz" || c.Org != "Organization/org-f" || !slices.Equal(c.Purposes, []string{"TREAT"}) ||
			!slices.Equal(c.Scopes, []string{"user/*.read"}) || c.Patient != "" || c.BreakGlass != "" {
			t.Fatalf("%q accepted as another caller: %+v", raw, c)
		}
		if !strings.HasPrefix(raw, parts[0]+"."+parts[1]+".") {
			t.Fatalf("%q accepted with another header or payload than the signed one", raw)
		}
	})
}
