package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCascadingDeleteRefusedQA20E: a cascading delete (_cascade=delete,
// X-Cascade: delete) of a resource the caller may read is refused before
// the upstream sees it: the server would delete every resource referring
// to it, those withheld from the caller included, and list them.
func TestCascadingDeleteRefusedQA20E(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, path, body string
		hdr                      []string
	}{
		{"parameter", "DELETE", "/fhir/Condition/sud1?_cascade=delete", "", nil},
		{"parameter, other case", "DELETE", "/fhir/Condition/sud1?_Cascade=delete", "", nil},
		{"header", "DELETE", "/fhir/Condition/sud1", "", []string{"X-Cascade", "delete"}},
		{"batch entry", "POST", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"DELETE","url":"Condition/sud1?_cascade=delete"}}]}`, nil},
		{"header on a transaction", "POST", "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Condition/sud1"}}]}`, []string{"X-Cascade", "delete"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := &writeUpstream{writes: make(chan string, 4)}
			h := newHarness(t, up.handler)
			resp, body := h.do(c.method, c.path, tokAll, "application/fhir+json", c.body, c.hdr...)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cascading delete") || len(up.writes) != 0 {
				t.Fatalf("%d %s, %d writes reached the upstream", resp.StatusCode, body, len(up.writes))
			}
		})
	}
	// The plain delete still goes.
	up := &writeUpstream{writes: make(chan string, 4)}
	h := newHarness(t, up.handler)
	if resp, body := h.do("DELETE", "/fhir/Condition/sud1", tokAll, "application/fhir+json", ""); resp.StatusCode != http.StatusNoContent || len(up.writes) != 1 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
}
