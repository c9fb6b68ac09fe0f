package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// refPerms is the fuzz oracle of SMART permissions, written apart from
// v2Perms: v1 words, or a non-empty run of distinct letters of "cruds" in
// that order.
func refPerms(p string) (uint8, bool) {
	switch p {
	case "read":
		return permR | permS, true
	case "write":
		return permC | permU | permD, true
	case "*":
		return permAll, true
	}
	bit := map[byte]uint8{'c': permC, 'r': permR, 'u': permU, 'd': permD, 's': permS}
	last, out := -1, uint8(0)
	for i := 0; i < len(p); i++ {
		at := strings.IndexByte("cruds", p[i])
		if at <= last {
			return 0, false
		}
		last, out = at, out|bit[p[i]]
	}
	return out, p != ""
}

// FuzzParseSMARTScope: no scope string panics the parser; what it accepts
// has a known context, a plain type or *, exactly the permissions its
// letters name, and never grants a bit it does not carry; a restricted
// scope grants nothing outside a search.
func FuzzParseSMARTScope(f *testing.F) {
	for _, s := range []string{"patient/*.read", "user/Observation.rs", "system/*.cruds", "patient/Observation.rs?category=laboratory",
		"user/*.write", "user/*.*", "patient/Observation.sr", "user/Observation.rs?", "openid", "ds4p/auditor", "user/observation.read", "user/*.cruds?a=b&a=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, ok := parseSMARTScope(s)
		if !ok {
			return
		}
		ctx, rest, _ := strings.Cut(s, "/")
		rest, query, hasQuery := strings.Cut(rest, "?")
		typ, perm, _ := strings.Cut(rest, ".")
		want, wantOK := refPerms(perm)
		switch {
		case ctx != "patient" && ctx != "user" && ctx != "system":
			t.Fatalf("%q accepted with context %q", s, ctx)
		case sc.patient != (ctx == "patient"):
			t.Fatalf("%q: patient context %v", s, sc.patient)
		case sc.typ != typ || (typ != "*" && !plainType(typ)):
			t.Fatalf("%q: type %q", s, sc.typ)
		case !wantOK || sc.perms != want:
			t.Fatalf("%q: permissions %05b, the oracle says %05b (%v)", s, sc.perms, want, wantOK)
		case hasQuery != (sc.restrict != nil) || (hasQuery && query == ""):
			t.Fatalf("%q: restriction %v", s, sc.restrict)
		}
		g := grants{sc}
		for bit := permC; bit <= permS; bit <<= 1 {
			if sc.perms&bit == 0 && g.allows(typ, bit, nil) {
				t.Fatalf("%q grants bit %05b it does not carry", s, bit)
			}
			if sc.restrict != nil && g.allows(typ, bit, nil) {
				t.Fatalf("%q: a restricted scope grants %05b outside a search", s, bit)
			}
		}
		if typ != "*" && g.allows("*", permR, nil) {
			t.Fatalf("%q: a typed scope grants the wildcard", s)
		}
	})
}

// FuzzParseFHIRPath: no method and path panic the route parser, and a
// path it accepts is made of plain segments only, so that the upstream URL
// built from it stays below the FHIR base.
func FuzzParseFHIRPath(f *testing.F) {
	for _, p := range []string{"/Patient/1", "/Patient/1/_history/2", "/Patient/1/$everything", "/../admin", "/Patient/%2e%2e", "/Patient/1;x",
		`/Patient\..\x`, "//Patient//1", "/metadata", "/_history", "/Observation/_search", "/Patient/1/Observation", "/$export", "/_page/AQ"} {
		f.Add("GET", p)
	}
	f.Add("POST", "/")
	f.Add("DELETE", "/Patient")
	f.Fuzz(func(t *testing.T, method, path string) {
		r, err := parseFHIRPath(method, path)
		if err != nil {
			if classify(err).Status < 400 {
				t.Fatalf("%s %q refused with status %d", method, path, classify(err).Status)
			}
			return
		}
		if r.Path == "" {
			return
		}
		for _, seg := range strings.Split(r.Path, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "%\\;?#:@ \t\r\n") {
				t.Fatalf("%s %q accepted with segment %q", method, path, seg)
			}
		}
		switch r.Interaction {
		case Create, Update, Patch, Delete:
			if method == http.MethodGet {
				t.Fatalf("GET %q classified as %s", path, r.Interaction)
			}
		case Read, VRead, Search, History, Capabilities:
			if method != http.MethodGet && !(r.Interaction == Search && method == http.MethodPost) {
				t.Fatalf("%s %q classified as %s", method, path, r.Interaction)
			}
		}
	})
}
