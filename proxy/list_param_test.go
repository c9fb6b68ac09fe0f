package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestListParamRefused: _list selects by a List's membership, which a List
// the caller may not read would still decide (Patient?_list=List/l-p2
// answering Patient/p-sud while the List reads as missing). It is refused
// unless enforcement.allow_list lets it through, in a URL, a POST _search
// form and a batch entry alike.
func TestListParamRefused(t *testing.T) {
	t.Parallel()
	const searchset = `{"resourceType":"Bundle","type":"searchset"}`
	for _, c := range []struct{ name, method, path, ctype, body string }{
		{"query", http.MethodGet, "/fhir/Patient?_list=List/l-p2", "", ""},
		{"query in capitals", http.MethodGet, "/fhir/Patient?_LIST=List/l-p2", "", ""},
		{"query with a modifier", http.MethodGet, "/fhir/Patient?_list:missing=false", "", ""},
		{"functional list", http.MethodGet, "/fhir/Condition?_list=$current-problems&patient=p1", "", ""},
		{"form", http.MethodPost, "/fhir/Patient/_search", "application/x-www-form-urlencoded", "_list=List/l-p2"},
		{"batch entry", http.MethodPost, "/fhir", "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient?_list=List/l-p2"}}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, searchset))
			resp, body := h.send(c.method, c.path, tokAll, c.ctype, c.body)
			if resp.StatusCode != 400 || !strings.Contains(body, "not-supported") || !strings.Contains(body, "enforcement.allow_list") {
				t.Fatalf("%d %s, want 400 not-supported naming enforcement.allow_list", resp.StatusCode, body)
			}
			select {
			case r := <-h.seen:
				t.Fatalf("a refused _list reached the upstream: %s?%s", r.URL.Path, r.URL.RawQuery)
			default:
			}
		})
	}
	t.Run("allowed by config", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, fhirJSONHandler(200, searchset), func(o *Options, _ *Deps) { o.Requests.AllowList = true })
		if resp, body := h.get("/fhir/Patient?_list=List/l1", tokAll); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if r := <-h.seen; r.URL.Query().Get("_list") != "List/l1" {
			t.Fatalf("upstream got %q", r.URL.RawQuery)
		}
		// still sensitive for the include rule
		if resp, body := h.get("/fhir/Condition?_list=List/l1&_include=Condition:subject", tokAll); resp.StatusCode != 400 {
			t.Fatalf("_list with an include: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("guardQuery", func(t *testing.T) {
		t.Parallel()
		s := testServer(t, RequestRules{})
		if _, f := s.guardQuery(fhirRequest{Interaction: Search, Type: "Patient"}, url.Values{"_list": {"List/l-p2"}}, false); f == nil {
			t.Fatal("_list forwarded")
		}
	})
}
