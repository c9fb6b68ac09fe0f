package proxy

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPostSearchIncludeRuleSeesURLAndForm: a server merges a POST _search's
// URL query with its form, so an include in the one and a sensitive code in
// the other must not pass as two harmless halves.
func TestPostSearchIncludeRuleSeesURLAndForm(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	type seen struct{ query, form string }
	for _, c := range []struct {
		name, url, body string
		ok              bool
		want            seen // forwarded, when ok
	}{
		{"include in the URL, sensitive code in the form", "/fhir/Condition/_search?_include=Condition:subject", "code=F11.20", false, seen{}},
		{"revinclude in the URL, sensitive system|code in the form", "/fhir/Condition/_search?_revinclude=Provenance:target",
			"code=" + url.QueryEscape("http://hl7.org/fhir/sid/icd-10-cm|F11.20"), false, seen{}},
		{"sensitive code in the URL, include in the form", "/fhir/Condition/_search?code=F11.20", "_include=Condition:subject", false, seen{}},
		{"security label in the URL, include in the form", "/fhir/Condition/_search?_security=R", "_include=Condition:subject", false, seen{}},
		{"text filter in the URL, include in the form", "/fhir/Condition/_search?code:text=opioid", "_include=Condition:subject", false, seen{}},
		{"both in the form", "/fhir/Condition/_search", "code=F11.20&_include=Condition:subject", false, seen{}},
		{"ordinary filter in the URL, include and ordinary code in the form", "/fhir/Condition/_search?subject=Patient/p1&_count=10",
			"code=I10&_include=Condition:subject", true, seen{"subject=Patient/p1&_count=10", "code=I10&_include=Condition:subject"}},
		{"include alone in the URL, ordinary code in the form", "/fhir/Condition/_search?_include=Condition:subject",
			"code=I10", true, seen{"_include=Condition:subject", "code=I10"}},
		{"sensitive code in the form without includes", "/fhir/Condition/_search?_count=10", "code=F11.20", true, seen{"_count=10", "code=F11.20"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan seen, 1)
			h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				q, _ := url.QueryUnescape(r.URL.RawQuery)
				got <- seen{q, string(b)}
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
			})
			resp, body := h.send(http.MethodPost, c.url, tokAll, form, c.body)
			if !c.ok {
				if resp.StatusCode != 400 || !strings.Contains(body, "not-supported") {
					t.Fatalf("%d %s, want 400 not-supported", resp.StatusCode, body)
				}
				select {
				case s := <-got:
					t.Fatalf("a refused search reached the upstream: %+v", s)
				default:
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if s := <-got; s != c.want {
				t.Fatalf("upstream got %+v, want %+v", s, c.want)
			}
		})
	}
}
