package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEmptyUpstreamErrorAnswersAsMissing: a withheld resource answers
// exactly as a missing one, but only when the server put an
// OperationOutcome in its 404: one answering without a body (a server, or
// a gateway before it, that sends none) had its bodiless 404 passed on,
// and a deleted resource's bodiless 410 with its ETag and Last-Modified,
// while a withheld resource answered the canonical 404 OperationOutcome.
// Each now answers as the withheld one does, on read, vread and instance
// history alike.
func TestEmptyUpstreamErrorAnswersAsMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch id := strings.Split(strings.TrimPrefix(r.URL.Path, "/fhir/R4/Condition/"), "/")[0]; id {
		case "x-withheld":
			fhirJSONHandler(200, strings.Replace(sudCondition, `"sud1"`, `"x-withheld"`, 1))(w, r)
		case "x-deleted":
			w.Header().Set("ETag", `W/"4"`)
			w.Header().Set("Last-Modified", "Sun, 06 Dec 2026 01:00:00 GMT")
			w.WriteHeader(http.StatusGone)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	for _, suffix := range []string{"", "/_history/1", "/_history"} {
		resp, want := h.get("/fhir/Condition/x-withheld"+suffix, tokOther)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(want, "OperationOutcome") {
			t.Fatalf("withheld%s: %d %s", suffix, resp.StatusCode, want)
		}
		wantHeader := resp.Header.Get("Content-Type")
		for _, id := range []string{"x-missing", "x-deleted"} {
			resp, body := h.get("/fhir/Condition/"+id+suffix, tokOther)
			if resp.StatusCode != http.StatusNotFound || strings.ReplaceAll(body, id, "x-withheld") != want ||
				resp.Header.Get("Content-Type") != wantHeader || resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "" {
				t.Errorf("%s%s: %d %v %s; withheld: %s", id, suffix, resp.StatusCode, resp.Header, body, want)
			}
		}
	}
}
