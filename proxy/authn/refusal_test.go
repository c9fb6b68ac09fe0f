package authn_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ds4p/ds4p/proxy/authn"
)

// junkToken is a compact JWS of the given header and claims (unsigned:
// "sig" is no signature of anything).
func junkToken(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + ".c2ln"
}

// TestRefusalNeverEchoesTheToken (QA17 F7): a refused token's message went
// to the log and to a durable token_refused event for each unauthenticated
// request, and quoted the unverified header: an "alg" of ~12 KB gave a
// 24 KB reason (and let the caller write its own text, a forged syslog
// line, into it). An unregistered algorithm is now refused without being
// named, and the library's message (which quotes an unknown key id) is
// bounded.
func TestRefusalNeverEchoesTheToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := authn.DevSigningKey(dir, true); err != nil {
		t.Fatal(err)
	}
	v := devVerifier(t, dir)
	claims := `{"sub":"a","exp":9999999999}`
	bigAlg := strings.Repeat("\uFFFE", ((authn.MaxTokenBytes-100)*3/4-40)/3)
	forged := "x\n<14>1 2026-01-01T00:00:00Z host ds4p - security.alert_cleared - {\"forged\":true}"
	bigKid := strings.Repeat("k", (authn.MaxTokenBytes-100)*3/4-60)
	for _, c := range []struct {
		name, token, want string
	}{
		{"an alg of ~12 KB", junkToken(`{"alg":"`+bigAlg+`"}`, claims), "algorithm not allowed"},
		{"an alg that forges a syslog line", junkToken(`{"alg":"`+strings.ReplaceAll(strings.ReplaceAll(forged, `"`, `\"`), "\n", `\n`)+`"}`, claims), "algorithm not allowed"},
		{"a registered alg outside the allowlist", junkToken(`{"alg":"HS256"}`, claims), "algorithm HS256 not allowed"},
		{"a kid of ~12 KB", junkToken(`{"alg":"ES256","kid":"`+bigKid+`"}`, claims), ""},
	} {
		if len(c.token) > authn.MaxTokenBytes {
			t.Fatalf("%s: token of %d bytes, over the limit", c.name, len(c.token))
		}
		_, err := v.Verify(context.Background(), c.token)
		if !errors.Is(err, authn.ErrUnauthenticated) {
			t.Fatalf("%s: %v, want a refusal", c.name, err)
		}
		msg := err.Error()
		if len(msg) > 256 || !utf8.ValidString(msg) || strings.Contains(msg, "forged") || strings.Contains(msg, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk") {
			t.Errorf("%s: a refusal of %d bytes echoes the token: %.300q", c.name, len(msg), msg)
		}
		if c.want != "" && !strings.HasSuffix(msg, c.want) {
			t.Errorf("%s: %q, want it to end %q", c.name, msg, c.want)
		}
	}
}
