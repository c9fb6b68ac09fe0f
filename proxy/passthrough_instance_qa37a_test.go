package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPassthroughInstanceOfNoPatientQA37A (QA round 37, area A, on
// 3f218c5): a token bound to p1's compartment took an uninspected answer
// of any instance's operation, since guardInstance had read the instance
// as one the token may read. A resource that belongs to no patient
// (Questionnaire, Measure, Library, Organization) is one, so
// Questionnaire/q1/$render?subject=Patient/p2 sent the server's HTML of
// p2's answers (200), recorded as a disclosure of p1's: the hole 3f218c5
// closed for Observation/$render?patient=p2, one level down. To a bound
// token only an operation on a resource of its own patient passes
// uninspected.
func TestPassthroughInstanceOfNoPatientQA37A(t *testing.T) {
	t.Parallel()
	signed, v := p1LaunchToken(t)
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Questionnaire/q1"):
			fhirJSONHandler(200, `{"resourceType":"Questionnaire","id":"q1","status":"active"}`)(w, r)
			return
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Observation/o1"):
			fhirJSONHandler(200, `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>" + r.URL.Query().Get("subject") + " " + storedSUD + "</pre></html>"))
	}
	h := newHarness(t, handler, func(o *Options, d *Deps) {
		d.Auth = v
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	resp, body := h.get("/fhir/Questionnaire/q1/$render?subject=Patient/p2", string(signed))
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "Patient/p2") {
		t.Errorf("bound token, an operation on a resource of no patient: %d %.200s, want it withheld", resp.StatusCode, body)
	}
	// An operation on the patient's own resources still passes.
	for _, path := range []string{"/fhir/Patient/p1/$render", "/fhir/Observation/o1/$render"} {
		resp, body = h.get(path, string(signed))
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
			t.Errorf("bound token, %s: %d %.200s", path, resp.StatusCode, body)
		}
	}
}
