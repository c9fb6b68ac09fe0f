package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A chain written as a _sort key (HAPI FHIR sorts by a chained parameter,
// _sort=encounter.reason-code or _sort=Practitioner:general-practitioner.
// family, one link deep) orders the matches by the resources the chain
// reaches, withheld ones too: org-b's Observation?patient=p1&_sort=
// encounter.reason-code placed p1's blood pressures by the reason code of
// the ED visits they were taken in (an Encounter for alcohol abuse it may
// not read; an encounter passes no SUD label to what was observed in it),
// and HAPI 7.2's chained sort left out the matches whose target has no
// such value. Chains are refused unless enforcement.allow_chains, but the
// rule read parameter names only; a _sort value was forwarded as it was,
// by GET, POST _search and a batch entry alike. With chains allowed it
// needs the types it reaches in the token's scopes, as a chained
// parameter does. QA round 39, area D.
func TestSortByChainIsAChainQA39D(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4" {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"},"resource":{"resourceType":"Bundle","type":"searchset","entry":[]}}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
	})
	sorts := []string{
		"encounter.reason-code",
		"-encounter.reason-code",
		"date,encounter:Encounter.reason-code",
		"Encounter:encounter.date",
	}
	drain := func() bool {
		seen := false
		for h.forwarded() {
			seen = true
		}
		return seen
	}
	refused := func(what string, resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not-supported") {
			t.Errorf("%s: %d %s, want 400 not-supported", what, resp.StatusCode, body)
		}
		if drain() {
			t.Errorf("%s reached the upstream", what)
		}
	}
	for _, v := range sorts {
		q := "patient=p1&_sort=" + url.QueryEscape(v)
		resp, body := h.get("/fhir/Observation?"+q, tokAll)
		refused("GET Observation?"+q, resp, body)
		resp, body = h.get("/fhir/Observation?patient=p1&_SORT="+url.QueryEscape(v), tokAll)
		refused("GET _SORT="+v, resp, body)
		resp, body = h.get("/fhir/Observation?patient=p1&_sort:asc="+url.QueryEscape(v), tokAll)
		refused("GET _sort:asc="+v, resp, body)
		resp, body = h.do(http.MethodPost, "/fhir/Observation/_search", tokAll, "application/x-www-form-urlencoded", q)
		refused("POST _search "+q, resp, body)
		batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation?` + q + `"}}]}`
		resp, body = h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batch)
		refused("batch entry Observation?"+q, resp, body)
	}
	// A plain _sort is no chain.
	if resp, body := h.get("/fhir/Observation?patient=p1&_sort=-date,code", tokAll); resp.StatusCode != http.StatusOK || !drain() {
		t.Fatalf("_sort=-date,code: %d %s", resp.StatusCode, body)
	}

	// With chains allowed the chained sort goes through, and needs s on
	// the type it reaches, as Observation?encounter:Encounter.reason-code=x
	// would.
	hc := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`), withScopeAuth,
		func(o *Options, _ *Deps) { o.Requests.AllowChains = true })
	cases := []struct {
		sort, scopes string
		want         int
	}{
		{"encounter:Encounter.reason-code", "user/Observation.rs", 403},
		{"-encounter:Encounter.reason-code", "user/Observation.rs", 403},
		{"date,encounter:Encounter.reason-code", "user/Observation.rs", 403},
		{"encounter:Encounter.reason-code", "user/Observation.rs user/Encounter.rs", 200},
		{"encounter.reason-code", "user/Observation.rs user/Encounter.rs", 403}, // no type named: any
		{"encounter.reason-code", "user/*.rs", 200},
		{"-date", "user/Observation.rs", 200},
	}
	for _, c := range cases {
		resp, body := hc.get("/fhir/Observation?_sort="+url.QueryEscape(c.sort), "|"+c.scopes)
		forwarded := false
		for hc.forwarded() {
			forwarded = true
		}
		if resp.StatusCode != c.want || (c.want == 403) == forwarded {
			t.Errorf("allow_chains, _sort=%s with %q: %d (forwarded %v), want %d: %s", c.sort, c.scopes, resp.StatusCode, forwarded, c.want, body)
		}
	}
}
