package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEnrolmentBeyondTheDepthBound: an extension nested deeper than the
// enrolment check reads is cut for a caller who may not read the program's
// records: what it holds there was not read, and here names the program
// (QA round 32, area D). It said "not named" past the bound.
func TestEnrolmentBeyondTheDepthBound(t *testing.T) {
	t.Parallel()
	ext := `{"url":"http://example.org/at","valueReference":{"reference":"Organization/p2"}}`
	for range 40 {
		ext = `{"url":"http://example.org/n","extension":[` + ext + `]}`
	}
	pat := `{"resourceType":"Patient","id":"p1","extension":[` + ext + `],"name":[{"family":"Doe"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/Organization/") {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusOK, pat)(w, r)
	}, withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Doe"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "Organization/p2") {
		t.Errorf("a caller who may not read the program's records is told the person is its patient: %s", body)
	}
}
