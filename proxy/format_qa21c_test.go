package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestFormatOnlyJSONQA21C (QA round 21, area C): _format passed when any
// of it held "json" and only its first value was read, so html/json (HAPI
// FHIR's HTML page of the resource, through ResponseHighlighterInterceptor)
// and a second _format reached the upstream; where text/html is a
// passthrough type its answer, the whole resource, went out uninspected.
func TestFormatOnlyJSONQA21C(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		for _, f := range r.URL.Query()["_format"] {
			if strings.HasPrefix(f, "html") {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html><pre>" + storedSUD + "</pre></html>"))
				return
			}
		}
		fhirJSONHandler(200, storedSUD)(w, r)
	}, func(o *Options, _ *Deps) { o.PassthroughContentTypes = []string{"text/html"} })
	for _, q := range []string{"_format=html/json", "_format=json&_format=html/json", "_format=html%2Fjson&_format=json", "_format=application/fhir%2Bndjson", "_format=jsonld"} {
		resp, body := h.get("/fhir/Condition/sud1?"+q, tokOther)
		if resp.StatusCode != http.StatusNotAcceptable || strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	// JSON however spelt is served (and decided: the caller may not read it).
	for _, q := range []string{"_format=json", "_format=application/fhir+json", "_format=application/fhir%2Bjson%3B%20fhirVersion=4.0", "_format=JSON&_format=application/json", "_format="} {
		resp, body := h.get("/fhir/Condition/sud1?"+q, tokOther)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
}
