package main

import (
	"strings"
	"testing"
)

// TestPlainHTTPWarnings: a plain http JWKS or upstream on another host is
// warned of, without the URL's credentials or query; https and loopback
// are quiet.
func TestPlainHTTPWarnings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		jwks, upstream string
		want           []string
		public         string // public_base_url, served over TLS
	}{
		{"", "https://ehr.example/fhir", []string{`public_base_url "http://proxy.example/fhir" is plain http while ds4p serves https`}, "http://proxy.example/fhir"},
		{"", "https://ehr.example/fhir", nil, "https://proxy.example/fhir"},
		{"https://idp.example/jwks", "https://ehr.example/fhir", nil, ""},
		{"http://127.0.0.1:8081/jwks", "http://localhost:8080/fhir", nil, ""},
		{"http://[::1]:8081/jwks", "", nil, ""},
		{"http://idp.example/jwks?key=SECRET", "https://ehr.example/fhir", []string{`auth.jwks_url "http://idp.example/jwks?(query withheld)" is plain http`}, ""},
		{"", "http://ehr.internal:8080/fhir", []string{`upstream "http://ehr.internal:8080/fhir" is plain http`}, ""},
		{"http://10.0.0.5/jwks", "http://10.0.0.6/fhir", []string{"auth.jwks_url", "upstream"}, ""},
	} {
		cfg := Config{Upstream: c.upstream, Auth: AuthConfig{JWKSURL: c.jwks}}
		if c.public != "" {
			cfg.PublicBaseURL, cfg.TLS = c.public, TLSConfig{CertFile: "c.pem", KeyFile: "k.pem"}
		}
		got := plainHTTPWarnings(cfg)
		if len(got) != len(c.want) {
			t.Errorf("%s, %s: %q; want %d warnings", c.jwks, c.upstream, got, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(got[i], w) || strings.Contains(got[i], "SECRET") {
				t.Errorf("%s, %s: %q; want %q and no secret", c.jwks, c.upstream, got[i], w)
			}
		}
	}
}
