// Package urltext shows URLs in text that goes to logs, error messages,
// /readyz and security events without the credentials a URL can carry: a
// password or token in its userinfo (https://user:password@idp/jwks), an
// API key in its query (?api-key=...), anything in its fragment. It is the
// one place the proxy and the binary strip them (a JWKS URL, an OTLP
// endpoint, a verifier's or exporter's error naming either).
package urltext

import (
	"net/url"
	"regexp"
	"strings"
)

// Withheld stands for a URL that is not shown at all: it does not parse,
// it was cut inside its scheme's authority, or where its credentials end
// is ambiguous.
const Withheld = "(URL withheld)"

// QueryWithheld replaces a URL's query.
const QueryWithheld = "?(query withheld)"

// inText is a URL in text: "://", the scheme before it (in any case) and
// what follows up to white space or a quote (net/http quotes the URLs it
// names). A scheme that is none ("00://", or none at all) still makes a
// match, which then does not parse and is withheld.
var inText = regexp.MustCompile(`[a-zA-Z0-9+.-]*://[^\s"]+`)

// Text is s with each URL in it shown as URL shows it. Punctuation that
// ends a URL in prose (":", ",", ";", ")") is kept outside it, so that
// "failed to send to https://c/v1?k=v: 401" keeps its ": 401".
func Text(s string) string {
	return inText.ReplaceAllStringFunc(s, func(raw string) string {
		if cutInAuthority(raw) {
			return Withheld
		}
		trimmed := strings.TrimRight(raw, ":,;)")
		return URL(trimmed) + raw[len(trimmed):]
	})
}

// URL is raw, a URL (an endpoint as configured, a URL found in text), as a
// message may show it: without userinfo and fragment, its query replaced
// by "(query withheld)"; a URL with none of them is shown as written.
// Withheld whole, failing closed: a URL that does not parse; one cut
// inside its authority (it ends in "…" or "...", the marks of a cut text,
// before its path starts: what is left of the host may be a user name or
// a password); one with an "@" after its authority (a password holding an
// unescaped "/", "?" or "#" makes the parser take part of it for the host:
// "https://user:12/x@idp" is host "user", port 12); and a value without a
// host (not an absolute URL: "user:token@collector:4318") that has an "@",
// "?" or "#".
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || cutInAuthority(raw) {
		return Withheld
	}
	if u.Host == "" {
		if strings.ContainsAny(raw, "@?#") {
			return Withheld
		}
		return raw
	}
	if atAfterAuthority(raw) {
		return Withheld
	}
	if u.User == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && !strings.Contains(raw, "#") {
		return raw
	}
	out := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		out += QueryWithheld
	}
	return out
}

// authority returns what follows raw's "://" up to its path, query or
// fragment, and what follows that; ok is false when raw has no "://".
func authority(raw string) (auth, rest string, ok bool) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return "", "", false
	}
	auth = raw[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		return auth[:j], auth[j:], true
	}
	return auth, "", true
}

// cutInAuthority reports whether raw ends in a cut text's mark ("…", or
// "...") before anything follows its authority.
func cutInAuthority(raw string) bool {
	if !strings.HasSuffix(raw, "…") && !strings.HasSuffix(raw, "...") {
		return false
	}
	_, rest, ok := authority(raw)
	return ok && rest == ""
}

// atAfterAuthority reports whether raw has an "@" after its authority.
func atAfterAuthority(raw string) bool {
	_, rest, ok := authority(raw)
	return ok && strings.Contains(rest, "@")
}
