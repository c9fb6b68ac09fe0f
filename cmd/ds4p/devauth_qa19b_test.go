package main

import (
	"net"
	"strings"
	"testing"
)

// TestDevAuthWarnings: dev auth on a reachable address warns with TLS as
// without it, and so does dev auth beside an identity provider's keys; on
// loopback alone it is quiet.
func TestDevAuthWarnings(t *testing.T) {
	t.Parallel()
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 18460}
	any := &net.TCPAddr{IP: net.IPv6unspecified, Port: 18460}
	dev := Config{Auth: AuthConfig{Dev: true}}
	withIdP := Config{Auth: AuthConfig{Dev: true, JWKSURL: "https://idp.example/jwks"}}
	for _, c := range []struct {
		name string
		cfg  Config
		addr net.Addr
		tls  bool
		want []string // substrings, one per warning
	}{
		{"off", Config{Auth: AuthConfig{JWKSURL: "https://idp.example/jwks"}}, any, false, nil},
		{"loopback", dev, loopback, false, nil},
		{"reachable, plain HTTP", dev, any, false, []string{"non-loopback address: tokens signed with the data directory's dev signing key (ds4p token) are trusted, with any role, purpose and patient; for development only; and without TLS"}},
		{"reachable, TLS", dev, any, true, []string{"non-loopback address"}},
		{"beside an IdP, loopback", withIdP, loopback, true, []string{"beside auth.jwks_url"}},
	} {
		got := devAuthWarnings(c.cfg, c.addr, c.tls)
		if len(got) != len(c.want) {
			t.Errorf("%s: %q; want %d warnings", c.name, got, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: %q does not say %q", c.name, got[i], w)
			}
		}
		if c.tls && len(got) > 0 && strings.Contains(got[0], "without TLS") {
			t.Errorf("%s: %q speaks of no TLS", c.name, got[0])
		}
	}
}
