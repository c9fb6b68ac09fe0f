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

// upstreamHosts are the hosts of the upstream's base and aliases (upBases)
// as baseHost finds them. New finds them once (Server.upHosts, only read
// after); for a Server not built so (tests) mayHoldUpstreamURL finds them
// on the stack, once for the many authorities of one resource.
type upstreamHosts struct {
	done    bool
	unknown bool // a base whose host cannot be told: every authority may name it
	n       int
	hosts   [4]string
	more    []string // past the first four (a long alias list)
}

// mayBeUpstream reports whether auth, a url's authority as raw JSON holds
// it, may name the server of a base in bases as sameServer compares them:
// it holds a base's host in any ASCII case, or a percent-escape or a byte
// outside ASCII (which the parser's unescaping, or sameServer's Unicode
// case folding, could make one), or a base's host cannot be told.
func (hs *upstreamHosts) mayBeUpstream(bases []string, auth []byte) bool {
	if !hs.done {
		hs.find(bases)
	}
	if hs.unknown {
		return true
	}
	for _, c := range auth {
		if c == '%' || c >= 0x80 {
			return true
		}
	}
	for _, h := range hs.hosts[:hs.n] {
		if containsFold(auth, h) {
			return true
		}
	}
	for _, h := range hs.more {
		if containsFold(auth, h) {
			return true
		}
	}
	return false
}

// find fills hs with the hosts of bases.
func (hs *upstreamHosts) find(bases []string) {
	hs.done = true
	for _, b := range bases {
		h, ok := baseHost(b)
		switch {
		case !ok:
			hs.unknown = true
		case hs.n < len(hs.hosts):
			hs.hosts[hs.n] = h
			hs.n++
		default:
			hs.more = append(hs.more, h)
		}
	}
}

// baseHost is the host of base (as upBases holds it) without userinfo,
// port, an IPv6 literal's brackets or a trailing dot: what any spelling
// of its server holds, in some case. ok is false when it cannot tell.
func baseHost(base string) (string, bool) {
	i := strings.Index(base, "://")
	if i < 0 {
		return "", false
	}
	host := base[i+3:]
	for j := 0; j < len(host); j++ {
		if c := host[j]; c == '/' || c == '?' || c == '#' {
			host = host[:j]
			break
		}
	}
	if j := strings.LastIndexByte(host, '@'); j >= 0 {
		host = host[j+1:]
	}
	if strings.HasPrefix(host, "[") {
		if j := strings.IndexByte(host, ']'); j >= 0 {
			host = host[1:j]
		}
	} else if j := strings.LastIndexByte(host, ':'); j >= 0 {
		host = host[:j]
	}
	host = strings.TrimSuffix(host, ".")
	for k := 0; k < len(host); k++ {
		if c := host[k]; c == '%' || c >= 0x80 {
			return "", false
		}
	}
	return host, host != ""
}

// containsFold reports whether b holds s in any ASCII case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		j := 0
		for j < len(s) && lowerASCII(b[i+j]) == lowerASCII(s[j]) {
			j++
		}
		if j == len(s) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
