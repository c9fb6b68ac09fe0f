package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCallerOffsetRefused: QA round 20 asked an enrolled patient's
// $everything for its second page directly with _offset=1. The page held
// the Part 2 program's Organization without the cut Patient before it, so
// nothing carried the cut and "Riverside Recovery" was released to a caller
// without consent, where following the page link withholds it
// (TestEverythingSecondPageWithholdsTheProgram). _offset is the upstream's
// paging handle as _getpagesoffset is: refused from callers, kept in the
// upstream's own page links.
func TestCallerOffsetRefused(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}`)(w, r)
		case r.URL.Query().Get("_offset") == "1":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
				`{"resource":{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
				`{"relation":"next","url":"`+h.base()+`/Patient/p1/$everything?_count=1&_offset=1"}],"entry":[`+
				`{"resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}}]}`)(w, r)
		}
	}, withProgram)
	for _, p := range []string{
		"/fhir/Patient/p1/$everything?_count=1&_offset=1",
		"/fhir/Patient/p1/$everything?_OFFSET=1",
		"/fhir/Condition?subject=Patient/p1&_offset=20",
	} {
		resp, body := h.get(p, tokOther)
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, "Riverside") {
			t.Errorf("%s: %d %s, want 400", p, resp.StatusCode, body)
		}
		for len(h.seen) > 0 {
			if r := <-h.seen; r.URL.Query().Has("_offset") {
				t.Errorf("%s: the upstream was asked for %s", p, r.URL.RawQuery)
			}
		}
	}
	// The upstream's own link with _offset still pages, through a token.
	resp, body := h.get("/fhir/Patient/p1/$everything?_count=1", tokOther)
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != http.StatusOK || next == "" {
		t.Fatalf("page 1: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "Riverside") {
		t.Fatalf("page 2: %d %s", resp.StatusCode, body)
	}
}
