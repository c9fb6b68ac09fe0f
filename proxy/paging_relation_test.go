package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPagingRelationAnyCase: a Bundle whose next link's relation is
// spelled "Next" (RFC 8288 compares relation types in any case) is a page
// of more: its total is dropped as for "next" (QA round 19); an unpaged
// one keeps it.
func TestPagingRelationAnyCase(t *testing.T) {
	t.Parallel()
	for _, rel := range []string{"Next", "LAST", " prev ", "self next"} {
		if !pagingRelation(rel) {
			t.Errorf("%q: not a paging relation", rel)
		}
	}
	for _, rel := range []string{"self", "first", "", "nextish"} {
		if pagingRelation(rel) {
			t.Errorf("%q: a paging relation", rel)
		}
	}
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"link":[`+
			`{"relation":"Next","url":"`+h.base()+`/Observation?subject=Patient/p1&_offset=2"}],`+
			`"entry":[{"resource":`+bpObs+`}]}`)(w, r)
	})
	resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokConsented)
	if resp.StatusCode != 200 || strings.Contains(body, `"total"`) {
		t.Fatalf("a page with a Next link: %d %s, want no total", resp.StatusCode, body)
	}
}
