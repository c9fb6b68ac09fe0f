package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPassthroughOwnInstanceParamNamesOtherQA37E (QA round 37, area E, on
// 625533a): a token bound to p1's compartment takes an operation's
// uninspected answer when the operation is on one of p1's resources; but
// the operation's parameters are the server's to read, and may pick
// another patient (Patient/p1/$render?patient=p2,
// Observation/o1/$render?subject=Patient/p2): the answer was p2's,
// uninspected (200), recorded as a disclosure of p1's. A bound token's
// uninspected answer passes only when the request gave the server nothing
// but the instance to act on (no parameter but _format and _pretty, no
// body).
func TestPassthroughOwnInstanceParamNamesOtherQA37E(t *testing.T) {
	t.Parallel()
	signed, v := p1LaunchToken(t)
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Observation/o1"):
			fhirJSONHandler(200, `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`)(w, r)
			return
		}
		// The server renders whom the parameters (or a body) name.
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>" + r.URL.RawQuery + string(b) + " " + storedSUD + "</pre></html>"))
	}
	h := newHarness(t, handler, func(o *Options, d *Deps) {
		d.Auth = v
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	for _, path := range []string{
		"/fhir/Patient/p1/$render?patient=p2",
		"/fhir/Patient/p1/$render?subject=Patient/p2",
		"/fhir/Observation/o1/$render?subject=Patient%2Fp2",
		"/fhir/Patient/p1/$render?x;patient=p2",
	} {
		resp, body := h.get(path, string(signed))
		if resp.StatusCode == http.StatusOK || strings.Contains(body, "p2") {
			t.Errorf("bound token, %s: %d %.200s, want it withheld", path, resp.StatusCode, body)
		}
	}
	resp, body := h.do(http.MethodGet, "/fhir/Patient/p1/$render", string(signed), "application/fhir+json",
		`{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/p2"}}]}`)
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "p2") {
		t.Errorf("bound token, GET with a Parameters body naming p2: %d %.200s, want it withheld", resp.StatusCode, body)
	}
	// An operation on the patient's own resources, asked with nothing
	// else, still passes.
	for _, path := range []string{"/fhir/Patient/p1/$render", "/fhir/Observation/o1/$render", "/fhir/Patient/p1/$render?_pretty=true"} {
		resp, body = h.get(path, string(signed))
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
			t.Errorf("bound token, %s: %d %.200s", path, resp.StatusCode, body)
		}
	}
}
