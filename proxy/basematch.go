package proxy

import (
	"net/url"
	"strings"
)

// sameServer reports whether URLs u and base name the same server: their
// schemes and hosts compare as RFC 3986 normalises them (6.2.2.1, 6.2.3):
// in any case, a host's trailing dot (the root of the DNS) dropped, and
// the scheme's default port, or an empty one, dropped. So
// https://ehr.example:443, HTTPS://EHR.Example and https://ehr.example.
// are https://ehr.example; another port (:8443, :0443) or host is not.
// Both sides are normalised: a configured base may be spelled so too.
func sameServer(u, base *url.URL) bool {
	us, uh := serverOf(u)
	bs, bh := serverOf(base)
	return us != "" && uh != "" && strings.EqualFold(us, bs) && strings.EqualFold(uh, bh)
}

// serverOf returns u's scheme and host[:port], normalised for sameServer
// (case is left to the comparison).
func serverOf(u *url.URL) (scheme, host string) {
	scheme = strings.ToLower(u.Scheme)
	host, port := strings.TrimSuffix(u.Hostname(), "."), u.Port()
	if port == defaultPorts[scheme] {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	if port != "" {
		host += ":" + port
	}
	return scheme, host
}

// defaultPorts are the schemes' default ports (RFC 9110 4.2).
var defaultPorts = map[string]string{"http": "80", "https": "443"}

// exactLocalPath is localPath for the patient's right of access, which an
// absolute reference grants when it names this server (checkFHIRUserBase,
// ownPatientRef): besides the equivalent spellings of the scheme and host
// that localPath takes (sameServer), it takes only a plain one, printable
// ASCII without userinfo, percent-escapes, backslashes, a query or a
// fragment, so that the path after the base is compared as written. The
// other callers of localPath take any spelling an upstream might resolve
// as its own: for them a looser match only means more is checked.
func (s *Server) exactLocalPath(ref string, more ...string) (string, bool) {
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`%\?#@`, c) >= 0 {
			return "", false
		}
	}
	if u, err := url.Parse(ref); err != nil || u.User != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return s.localPath(ref, more...)
}

// LocalServer returns the test labels.Options.LocalServer needs: whether
// an absolute reference's base is the upstream FHIR base or one of its
// aliases, the server and path compared as localPath compares them (the
// server as sameServer reads it, the path exactly, a trailing slash aside).
func LocalServer(upstream *url.URL, aliases []*url.URL) func(base string) bool {
	bases := append([]*url.URL{upstream}, aliases...)
	return func(base string) bool {
		u, err := url.Parse(base)
		if err != nil || u.Opaque != "" || u.User != nil {
			return false
		}
		for _, b := range bases {
			if b != nil && sameServer(u, b) && strings.TrimRight(u.Path, "/") == strings.TrimRight(b.Path, "/") {
				return true
			}
		}
		return false
	}
}
