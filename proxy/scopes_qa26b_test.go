package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// With chains allowed (enforcement.allow_chains), a chained parameter
// tests facts about the resources it reaches: Observation?subject:Patient.
// name=Smith tells which Observations are Smith's. A token that may search
// Observations but no Patients must not reach Patients that way; only
// _has was counted (QA round 26, area B). Each chain link, each _has
// (nested ones included) and _include/_revinclude in any case need their
// type; a link that names no type needs *.
func TestChainsNeedTheirTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/R4/Observation" {
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
	}, withScopeAuth,
		func(o *Options, _ *Deps) { o.Requests.AllowChains, o.Requests.AllowHas = true, true })
	cases := []struct {
		query, scopes string
		want          int
	}{
		{"subject:Patient.name=Smith", "user/Observation.rs", 403},
		{"subject:Patient.name=Smith", "user/Observation.rs user/Patient.rs", 200},
		{"subject:Patient.name=Smith", "user/Observation.rs user/Patient.r", 403},
		{"subject.name=Smith", "user/Observation.rs user/Patient.rs", 403}, // no type named: any
		{"subject.name=Smith", "user/*.rs", 200},
		{"subject:Patient.organization:Organization.name=Acme", "user/Observation.rs user/Patient.rs", 403},
		{"subject:Patient.organization:Organization.name=Acme", "user/Observation.rs user/Patient.rs user/Organization.s", 200},
		{"subject:Patient._has:Condition:patient:code=F11.20", "user/Observation.rs user/Patient.rs", 403},
		{"subject:Patient._has:Condition:patient:code=F11.20", "user/Observation.rs user/Patient.rs user/Condition.s", 200},
		{"_has:Condition:subject:_has:Encounter:diagnosis:status=finished", "user/Observation.rs user/Condition.s", 403},
		{"_has:Condition:subject:_has:Encounter:diagnosis:status=finished", "user/Observation.rs user/Condition.s user/Encounter.s", 200},
		{"_has:Condition:subject:asserter:Practitioner.name=X", "user/Observation.rs user/Condition.s", 403},
		{"_HAS:Condition:subject:code=F11.20", "user/Observation.rs", 403},
		{"_INCLUDE=Observation:subject:Patient", "user/Observation.rs", 403},
		{"_Revinclude=Provenance:target", "user/Observation.rs", 403},
		{"code=1234-5", "user/Observation.rs", 200},
	}
	for _, c := range cases {
		resp, body := h.get("/fhir/Observation?"+c.query, "|"+c.scopes)
		forwarded := false
		for h.forwarded() { // the search
			forwarded = true
		}
		if resp.StatusCode != c.want {
			t.Errorf("Observation?%s with %q: %d, want %d: %s", c.query, c.scopes, resp.StatusCode, c.want, body)
		}
		if c.want == 403 && (forwarded || !strings.Contains(body, `"forbidden"`)) {
			t.Errorf("Observation?%s with %q: forwarded=%v, body %s", c.query, c.scopes, forwarded, body)
		}
	}
}

// The same needs at the level of needs(): a restricted scope grants no
// chain (the proxy cannot check the restriction against another type's
// search).
func TestChainNeedsRestrictedScope(t *testing.T) {
	t.Parallel()
	req, err := parseFHIRPath(http.MethodGet, "Encounter")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery("reason-reference:Observation.category=laboratory")
	g := grantsOf(authn.Caller{Scopes: []string{"user/Encounter.rs", "user/Observation.rs?category=laboratory"}})
	for _, n := range needs(req, http.MethodGet, q) {
		if !g.allows(n.typ, n.perm, n.q) {
			return
		}
	}
	t.Fatal("a chain into Observation was allowed by a category-restricted Observation scope")
}
