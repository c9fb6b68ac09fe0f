package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// queryUpstream is writeUpstream recording the query of each write too.
type queryUpstream struct {
	writeUpstream
	mu      sync.Mutex
	queries []string
}

func (u *queryUpstream) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		u.mu.Lock()
		u.queries = append(u.queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		u.mu.Unlock()
	}
	u.handler(w, r)
}

// TestWriteQueryParamsRefusedQA27E: a create, update, patch, delete or
// batch whose query holds a parameter FHIR does not define for a write (a
// server's own: Medplum's _account sets the owner of what is created; a
// search parameter that HAPI reads as a conditional update's criteria) is
// refused with a 400 naming it and nothing reaches the upstream, on its
// own and as a batch entry. _format and _pretty still go.
func TestWriteQueryParamsRefusedQA27E(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	create := strings.Replace(conditionWith(), `"id":"sud1",`, "", 1)
	entry := func(method, url, resource string) string {
		r := ""
		if resource != "" {
			r = `"resource":` + resource + `,`
		}
		return `{"resourceType":"Bundle","type":"batch","entry":[{` + r + `"request":{"method":"` + method + `","url":"` + url + `"}}]}`
	}
	patch := `[{"op":"add","path":"/clinicalStatus","value":{"text":"active"}}]`
	cases := []struct{ name, method, path, ctype, body, param string }{
		{"create _account", "POST", "/fhir/Condition?_account=Organization/o9", fj, create, "_account"},
		{"create beside _format", "POST", "/fhir/Condition?_format=json&_account=Organization/o9", fj, create, "_account"},
		{"create other case", "POST", "/fhir/Condition?_Account=Organization/o9", fj, create, "_Account"},
		{"update _account", "PUT", "/fhir/Condition/sud1?_account=Organization/o9", fj, conditionWith(secSUD, secR), "_account"},
		{"update with criteria", "PUT", "/fhir/Condition/sud1?code=F11.20", fj, conditionWith(secSUD, secR), "code"},
		{"patch with criteria", "PATCH", "/fhir/Condition/sud1?subject=Patient/p1", "application/json-patch+json", patch, "subject"},
		{"delete _account", "DELETE", "/fhir/Condition/sud1?_account=Organization/o9", "", "", "_account"},
		{"batch _account", "POST", "/fhir?_account=Organization/o9", fj, entry("POST", "Condition", create), "_account"},
		{"entry create _account", "POST", "/fhir", fj, entry("POST", "Condition?_account=Organization/o9", create), "_account"},
		{"entry update criteria", "POST", "/fhir", fj, entry("PUT", "Condition/sud1?code=F11.20", conditionWith(secSUD, secR)), "code"},
		{"entry delete _account", "POST", "/fhir", fj, entry("DELETE", "Condition/sud1?_account=Organization/o9", ""), "_account"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := &queryUpstream{writeUpstream: writeUpstream{writes: make(chan string, 4)}}
			h := newHarness(t, up.handle)
			resp, got := h.send(c.method, c.path, tokAll, c.ctype, c.body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, `\"`+c.param+`\"`) || !strings.Contains(got, "OperationOutcome") {
				t.Fatalf("want 400 naming %s: %d %s", c.param, resp.StatusCode, got)
			}
			if len(up.writes) != 0 {
				t.Fatalf("the write reached the upstream: %v", up.queries)
			}
		})
	}
	t.Run("format and pretty go", func(t *testing.T) {
		t.Parallel()
		up := &queryUpstream{writeUpstream: writeUpstream{writes: make(chan string, 4)}}
		h := newHarness(t, up.handle)
		resp, got := h.send("POST", "/fhir/Condition?_format=json&_pretty=true", tokAll, fj, create)
		if resp.StatusCode >= 300 || len(up.queries) != 1 || !strings.Contains(up.queries[0], "_pretty=true") {
			t.Fatalf("a create with _format and _pretty: %d %s %v", resp.StatusCode, got, up.queries)
		}
	})
}
