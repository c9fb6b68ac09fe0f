package urltext

import (
	"strings"
	"testing"
)

// TestText covers the cases the four redactors' tests covered (the edge's
// refusalReason, the binary's otelErrorText and redactEndpoint, authn's
// jwksName) and the shapes a URL takes in an error's text.
func TestText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		// refusalReason's cases
		{`authn: JWKS https://u:p@idp.example/jwks?k=v not available: Get "https://u:***@idp.example/jwks?k=v": EOF`,
			`authn: JWKS https://idp.example/jwks?(query withheld) not available: Get "https://idp.example/jwks?(query withheld)": EOF`},
		{"authn: JWKS https://u:pw-cut…", "authn: JWKS (URL withheld)"},
		{"authn: unauthenticated: not a compact JWS", "authn: unauthenticated: not a compact JWS"},
		{"authn: JWKS https://idp.example/jwks not available", "authn: JWKS https://idp.example/jwks not available"},
		// otelErrorText's: the query up to the ": 401" that follows it
		{"failed to send metrics to https://u:p4ss@c.example/v1/metrics?api-key=k3y: 401",
			"failed to send metrics to https://c.example/v1/metrics?(query withheld): 401"},
		{"exporter: dial tcp 10.0.0.1:4318: i/o timeout", "exporter: dial tcp 10.0.0.1:4318: i/o timeout"},
		// IPv6 hosts, with and without credentials, and one that does not parse
		{"get http://a:b@[::1]:4318/v1/logs: EOF", "get http://[::1]:4318/v1/logs: EOF"},
		{"get http://[fe80::1%25en0]:80/jwks failed", "get http://[fe80::1%25en0]:80/jwks failed"},
		{"get http://a:b@[::1 failed", "get (URL withheld) failed"},
		// percent-encoded userinfo
		{"to https://us%40er:p%3Ass%2Fw@idp/jwks.", "to https://idp/jwks."},
		// "@" after the authority: a password with an unescaped "/", "?"
		// or "#" would otherwise show as host, port and path
		{"to https://user:12/ss@idp/jwks failed", "to (URL withheld) failed"},
		{"to https://user:12?ss@idp/jwks failed", "to (URL withheld) failed"},
		{"to https://tok#en@idp/jwks failed", "to (URL withheld) failed"},
		{"to https://idp/users/a@b failed", "to (URL withheld) failed"},
		{"to https://idp/jwks?email=a@b failed", "to (URL withheld) failed"},
		{"to https://idp/a%40b failed", "to https://idp/a%40b failed"},
		// other schemes
		{"dial grpc://tenant:s3cret@collector:4317 refused", "dial grpc://collector:4317 refused"},
		{"otlp+grpc://collector:4317?token=s3cret down", "otlp+grpc://collector:4317?(query withheld) down"},
		{"socket unix:///var/run/otel.sock gone", "socket unix:///var/run/otel.sock gone"},
		{"socket unix:///var/run/otel.sock?token=s3cret gone", "socket (URL withheld) gone"},
		// a scheme that is none: not shown at all
		{"to 00://u:s3cret@host/x", "to (URL withheld)"},
		{"to ://u:s3cret@host/x", "to (URL withheld)"},
		// a URL at the end of the text, two in one text, a fragment
		{"keys from https://u:s3cret@idp/jwks", "keys from https://idp/jwks"},
		{"https://a:s3cret@one/x?k=s3cret, then https://b:s3cret@two/y#s3cret", "https://one/x?(query withheld), then https://two/y"},
		{"empty query https://idp/jwks? and fragment https://idp/jwks#", "empty query https://idp/jwks?(query withheld) and fragment https://idp/jwks"},
		// schemes in upper case
		{"GET HTTPS://USER:S3CRET@IDP.EXAMPLE/JWKS failed", "GET https://IDP.EXAMPLE/JWKS failed"},
		{"GET HTTPS://IDP.EXAMPLE/JWKS failed", "GET HTTPS://IDP.EXAMPLE/JWKS failed"},
		// text cut inside the scheme, the authority (user name, password,
		// host) or the path and query
		{"keys from htt…", "keys from htt…"},
		{"keys from https:/…", "keys from https:/…"},
		{"keys from https://…", "keys from (URL withheld)"},
		{"keys from https://ghp_s3cretTok…", "keys from (URL withheld)"},
		{"keys from https://user:12…", "keys from (URL withheld)"},
		{"keys from https://user:s3cret@idp.exa…", "keys from (URL withheld)"},
		{"keys from https://user:s3...", "keys from (URL withheld)"},
		{"keys from https://idp/jw…", "keys from https://idp/jw…"},
		{"keys from https://idp/jwks?key=s3c…", "keys from https://idp/jwks?(query withheld)"},
	} {
		got := Text(c.in)
		if got != c.want {
			t.Errorf("Text(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if strings.Contains(strings.ToLower(got), "s3c") {
			t.Errorf("Text(%q) = %q shows a credential", c.in, got)
		}
	}
}

// TestURL: a value known to be a URL (an endpoint as configured), which
// may lack a scheme.
func TestURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"https://collector:4318", "https://collector:4318"},
		{"https://tenant:s3cret@collector:4318/v1/traces?api-key=s3cret#s3cret", "https://collector:4318/v1/traces?(query withheld)"},
		{"collector:4318", "collector:4318"},
		{"tenant:s3cret@collector:4318", Withheld},
		{"collector:4318?api-key=s3cret", Withheld},
		{"http://a:b@[::1", Withheld},
		{"https://a b@host", Withheld},
		{"", ""},
	} {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
