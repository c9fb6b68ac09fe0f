package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// upstreamLinks tells the search's own link array (page tokens taken as
// the upstream's own) from a stored Bundle's (a token only for a query the
// caller could send): since QA round 41 by the root Bundle's link member
// collectBundle saw, not by looking it up again past every entry. Wherever
// the root's link member stands, before or after the entries, only it is
// the upstream's; the same refused query in a stored Bundle's links makes
// no token, with the entries walked in one piece or in parts.
func TestRootLinksWhereverTheyStandQA41E(t *testing.T) {
	t.Parallel()
	var h *harness
	var body string
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, strings.ReplaceAll(body, "BASE", h.base()))(w, r)
	})
	const (
		rootLink = `"link":[{"relation":"self","url":"BASE/Bundle?type=collection"},{"relation":"next","url":"BASE/DiagnosticReport?study=sud1"}]`
		stored   = `{"resourceType":"Bundle","id":"b1","type":"collection","link":[{"relation":"next","url":"BASE/DiagnosticReport?study=sud1"}],"entry":[]}`
		entry    = `{"fullUrl":"BASE/Bundle/b1","resource":` + stored + `,"search":{"mode":"match"}}`
		entries  = `"entry":[` + entry + `,` + entry + `]` // two: walked in parts under DS4P_TEST_WALK_PARTS=1
	)
	for name, b := range map[string]string{
		"links first": `{"resourceType":"Bundle","type":"searchset",` + rootLink + `,` + entries + `}`,
		"links last":  `{"resourceType":"Bundle","type":"searchset",` + entries + `,` + rootLink + `}`,
	} {
		body = b
		resp, got := h.get("/fhir/Bundle?type=collection", tokOther)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, got)
		}
		if n := strings.Count(got, "/_page/"); n != 2 {
			t.Errorf("%s: %d page tokens, want the search's own two: %s", name, n, got)
		}
		if strings.Contains(got, "study=sud1") {
			t.Errorf("%s: a link still names the upstream's query: %s", name, got)
		}
	}
}
