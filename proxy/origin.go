package proxy

import (
	"net/http"
	"net/url"
	"strings"
)

// pageInScope reports whether the caller's SMART scopes cover rel, an
// upstream next link read to refill a page of the search ex stands for
// (refill.go judgePage), as they cover a page token followed
// (enforceScopes): checked by its own path and query, or for a handle of
// the upstream's by the search that began the chain. A next link of a
// system search naming another _type (or of a search outside a scope's
// restriction, user/Observation.rs?category=laboratory) is no page of the
// same search: refilled, its resources reached the caller past every scope
// check (QA round 30).
func (ex *exchange) pageInScope(req fhirRequest, rel string) bool {
	_, raw, _ := strings.Cut(rel, "?")
	if namesHandle(rel) {
		o, _, ok := parseOrigin(ex.searchOrigin())
		if !ok {
			return false // a handle without an origin: as a search of the base (needs *)
		}
		req = o
		_, raw, _ = strings.Cut(ex.searchOrigin(), "?")
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return false
	}
	g := grantsOf(ex.caller)
	for _, n := range needs(req, http.MethodGet, q) {
		if !g.allows(n.typ, n.perm, n.q) {
			return false
		}
	}
	return true
}

// The origin of a page the upstream names by a handle of its own. HAPI
// pages a search through links of its base that hold none of the search's
// parameters (?_getpages=<id>&_getpagesoffset=20: cutQueryHandles). Such a
// page, checked by its own path and query, was a search of the server's
// base: a token with type scopes only (user/Condition.read) was refused
// there (403), the cut-search rule counted every member as read, and every
// include of a page with a cut match as brought by a cut link. So the page
// token of a handle link carries the search that began the chain (its
// origin, sealed with the rest: the caller can neither read nor change
// it), and those checks read it instead of the handle's query. The origin
// is taken from the exchange, never from the caller or the upstream's
// link: the first page's own request as forwarded (a POST _search's form
// merged in), then passed on from token to token.

// originFor is the origin a page token for rel carries: the exchange's
// search when rel names a handle of the upstream's, "" otherwise.
func (r *run) originFor(rel string) string {
	if !namesHandle(rel) {
		return ""
	}
	return r.ex.searchOrigin()
}

// searchOrigin is the search ex stands for, as a path and query below the
// FHIR base ("/Condition?code=x", "?_type=Observation"): the origin it
// carries, or its own request when that is a search (or $everything,
// $lastn) whose parameters it holds; "" when it cannot be told (a handle's
// own page whose token carried none, a POST _search whose form is not
// known).
func (ex *exchange) searchOrigin() string {
	if ex.origin != "" {
		return ex.origin
	}
	req := ex.req
	switch {
	case req.Interaction == Search:
	case req.Interaction == Operation && (req.Operation == "$everything" || req.Operation == "$lastn"):
	default:
		return ""
	}
	path, raw, _ := strings.Cut(ex.query, "?")
	vals, err := url.ParseQuery(raw)
	if err != nil || queryNamesHandle(vals) {
		return ""
	}
	if path == "_search" || strings.HasSuffix(path, "/_search") {
		if ex.searchForm == nil {
			return ""
		}
		path = strings.TrimSuffix(strings.TrimSuffix(path, "_search"), "/")
		for k, vs := range ex.searchForm {
			vals[k] = append(vals[k], vs...)
		}
		raw = vals.Encode()
	}
	out := "/" + path
	if path == "" {
		out = ""
	}
	if raw != "" {
		out += "?" + raw
	}
	if out == "" {
		return ""
	}
	return out
}

// namesHandle reports whether the page link rel (path and query below the
// upstream base) names a search the upstream remembers.
func namesHandle(rel string) bool {
	_, raw, _ := strings.Cut(rel, "?")
	vals, err := url.ParseQuery(raw)
	return err == nil && queryNamesHandle(vals)
}

func queryNamesHandle(vals url.Values) bool {
	for k := range vals {
		if code, _, _ := strings.Cut(k, ":"); cutQueryHandles[code] {
			return true
		}
	}
	return false
}

// parseOrigin reads an origin (searchOrigin) back: the request it stands
// for and its parameters; false when it cannot be read.
func parseOrigin(origin string) (fhirRequest, url.Values, bool) {
	path, raw, _ := strings.Cut(origin, "?")
	req, err := parseFHIRPath(http.MethodGet, strings.TrimPrefix(path, "/"))
	if err != nil {
		return fhirRequest{}, nil, false
	}
	vals, err := url.ParseQuery(raw)
	if err != nil || queryNamesHandle(vals) {
		return fhirRequest{}, nil, false
	}
	return req, vals, true
}
