package urltext

import (
	"strings"
	"testing"
)

// FuzzTextCut: a URL whose userinfo and query hold a secret, in any text,
// cut anywhere (as textcut cuts, with "…"), never shows the secret.
func FuzzTextCut(f *testing.F) {
	f.Add("authn: JWKS ", "HTTPS", "idp.example:8443", "/jwks", " not available", 40)
	f.Add("", "grpc", "[::1]:4317", "", "", 12)
	f.Fuzz(func(t *testing.T, before, scheme, host, path, after string, cut int) {
		const secret = "Q9Zs3cr"
		if strings.Contains(before+scheme+host+path+after, "Q9Z") || strings.ContainsAny(host+path, "@?#\\\" \t\n\r\v\f") {
			return
		}
		s := before + scheme + "://u-" + secret + ":" + secret + "@" + host + path + "?k=" + secret + "#" + secret + after
		if cut >= 0 && cut < len(s) {
			s = s[:cut] + "…"
		}
		if got := Text(s); strings.Contains(got, "Q9Z") && !strings.Contains(before+scheme, "://") {
			t.Fatalf("Text(%q) = %q", s, got)
		}
	})
}
