package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// pageInScope (origin.go) tells whether an upstream next link read to
// refill a page stays within the caller's scopes, as a page token followed
// must: a system search's next link of another _type does not, nor one
// leaving a scope's restriction; a handle is judged by the search that
// began the chain. (The refill's call of it is proposed in QA round 30
// area C's report: refill.go is not area C's.)
func TestNextPageInScopeQA30C(t *testing.T) {
	t.Parallel()
	parse := func(path string) fhirRequest {
		req, err := parseFHIRPath(http.MethodGet, path)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	sys := &exchange{caller: authn.Caller{Subject: "u", Scopes: []string{"user/Condition.read"}}, req: parse(""), query: "?_type=Condition&_count=2"}
	lab := &exchange{caller: authn.Caller{Subject: "u", Scopes: []string{"user/Observation.rs?category=laboratory"}}, req: parse("Observation"), query: "Observation?category=laboratory"}
	for _, c := range []struct {
		ex   *exchange
		rel  string
		want bool
	}{
		{sys, "?_type=Condition&_offset=2", true},
		{sys, "?_type=Observation&_offset=2", false},
		{sys, "?_type=Condition,Observation&_offset=2", false},
		{sys, "?_offset=2", false}, // no _type: every type
		{sys, "?_getpages=abc&_getpagesoffset=2", true},
		{lab, "/Observation?category=laboratory&_offset=2", true},
		{lab, "/Observation?category=social-history&_offset=2", false},
		{lab, "?_getpages=abc&_getpagesoffset=2", true},
	} {
		path, _, _ := strings.Cut(c.rel, "?")
		req := c.ex.req
		if path != "" {
			req = parse(path[1:])
		}
		if got := c.ex.pageInScope(req, c.rel); got != c.want {
			t.Errorf("%s after %s with %v: %v, want %v", c.rel, c.ex.query, c.ex.caller.Scopes, got, c.want)
		}
	}
}
