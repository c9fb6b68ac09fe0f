package proxy

import (
	"io"
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

// TestPassthroughOnlyForOperationsQA21C (QA round 21, area C): a
// passthrough media type passed whatever the interaction, so a POST
// _search whose form asked for _format=html/json (the search rules read
// the form's filters, not its _format) was answered with HAPI FHIR's HTML
// page of the searchset, the withheld Condition in it, and an operation's
// form body went to the upstream unread.
func TestPassthroughOnlyForOperationsQA21C(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Patient/p1") { // $everything's owner, checked first
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "_format=html") || strings.Contains(r.URL.Path, "$render") {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><pre>" + storedSUD + "</pre></html>"))
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
	}, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	for _, c := range []struct{ path, form string }{
		{"/fhir/Condition/_search", "_format=html%2Fjson&subject=Patient/p1"},
		{"/fhir/Patient/p1/$everything", "_format=html%2Fjson"},
	} {
		resp, body := h.do("POST", c.path, tokOther, "application/x-www-form-urlencoded", c.form)
		if resp.StatusCode < 400 || strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
		}
	}
	// An operation the site lets through may answer a passthrough type.
	if resp, body := h.get("/fhir/Condition/$render", tokOther); resp.StatusCode != 200 || !strings.HasPrefix(body, "<html>") {
		t.Errorf("operation: %d %s", resp.StatusCode, body)
	}
}
