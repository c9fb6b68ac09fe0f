package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestNonJSONUpstreamMissingAnswersAsMissing: a withheld resource answers
// the canonical 404, and so must a missing one whatever the body of the
// server's 404 or 410: a gateway before the EHR (nginx, an API manager)
// answers a missing resource with an HTML or plain-text page, a server
// with application/problem+json or XML. Such a 404 was answered 502 (the
// server's content "cannot be inspected") while a withheld resource
// answered 404: a caller told the two apart on read, vread and instance
// history.
func TestNonJSONUpstreamMissingAnswersAsMissing(t *testing.T) {
	t.Parallel()
	bodies := map[string][2]string{
		"x-html":    {"text/html", "<html><body><h1>404 Not Found</h1></body></html>"},
		"x-text":    {"text/plain; charset=utf-8", "Resource not found"},
		"x-problem": {"application/problem+json", `{"type":"about:blank","title":"Not Found","status":404}`},
		"x-xml":     {"application/fhir+xml", `<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="not-found"/></issue></OperationOutcome>`},
		"x-none":    {"", "not found"},
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		id := strings.Split(strings.TrimPrefix(r.URL.Path, "/fhir/R4/Condition/"), "/")[0]
		if id == "x-withheld" {
			fhirJSONHandler(200, strings.Replace(sudCondition, `"sud1"`, `"x-withheld"`, 1))(w, r)
			return
		}
		status := http.StatusNotFound
		if strings.HasSuffix(id, "-gone") {
			status, id = http.StatusGone, strings.TrimSuffix(id, "-gone")
			w.Header().Set("ETag", `W/"4"`)
			w.Header().Set("Last-Modified", "Sun, 06 Dec 2026 01:00:00 GMT")
		}
		b := bodies[id]
		if b[0] == "" {
			w.Header()["Content-Type"] = nil // no Content-Type sniffed either
		} else {
			w.Header().Set("Content-Type", b[0])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(b[1]))
	})
	for _, suffix := range []string{"", "/_history/1", "/_history"} {
		resp, want := h.get("/fhir/Condition/x-withheld"+suffix, tokOther)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(want, "OperationOutcome") {
			t.Fatalf("withheld%s: %d %s", suffix, resp.StatusCode, want)
		}
		for id := range bodies {
			for _, ask := range []string{id, id + "-gone"} {
				resp, body := h.get("/fhir/Condition/"+ask+suffix, tokOther)
				if resp.StatusCode != http.StatusNotFound || strings.ReplaceAll(body, ask, "x-withheld") != want ||
					resp.Header.Get("Content-Type") != fhirJSON || resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "" {
					t.Errorf("%s%s: %d %v %s; withheld: %s", ask, suffix, resp.StatusCode, resp.Header, body, want)
				}
			}
		}
	}
}
