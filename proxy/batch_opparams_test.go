package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBatchOperationBodyParamsMeetSearchRules: a batch entry POSTing a
// type-level operation carries its Parameters as the entry's resource,
// which a server reads as it reads a POSTed operation's body. The
// request-level check (TestOperationBodyParamsMeetSearchRules) did not
// reach entries, so a batch entry POST Observation/$lastn with _content,
// or an _include beside a sensitive code, went to the server unchecked
// (QA round 26, area C). Each is refused before anything reaches the
// upstream; an entry with the parameters an operation takes goes.
func TestBatchOperationBodyParamsMeetSearchRules(t *testing.T) {
	t.Parallel()
	batchOf := func(url, params string) string {
		return `{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Parameters","parameter":[` + params +
			`]},"request":{"method":"POST","url":"` + url + `"}}]}`
	}
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"}}]}`))
	for _, c := range []struct{ url, params string }{
		{"Observation/$lastn", `{"name":"_content","valueString":"opioid"}`},
		{"Observation/$lastn", `{"name":"code","valueCoding":{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}},{"name":"_include","valueString":"Observation:patient"}`},
		{"Observation/$lastn?code=F11.20", `{"name":"_include","valueString":"Observation:patient"}`},
		{"Observation/$lastn", `{"name":"focus","valueString":"Condition/sud1"}`},
		{"Patient/$everything", `{"name":"_summary","valueCode":"count"}`},
	} {
		resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batchOf(c.url, c.params))
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d %s, want refused", c.url, c.params, resp.StatusCode, body)
		}
	}
	select {
	case r := <-h.seen:
		t.Fatalf("a refused batch reached the upstream: %s %s", r.Method, r.URL.Path)
	default:
	}
	resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batchOf("Observation/$lastn", `{"name":"max","valueInteger":1}`))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "batch-response") {
		t.Errorf("an entry with $lastn's own parameter: %d %s", resp.StatusCode, body)
	}
}
