package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestInlineLabelOnTheResourceWithholdsIt: an inline HIV label in the
// resource's own extension (or meta's) labels the resource, so a caller
// denied HIV data gets the 404 a missing resource gets, not the resource
// whole (QA round 20, HIGH; labels.TestInlineLabelOnTheResource).
func TestInlineLabelOnTheResourceWithholdsIt(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"top-level": `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,` + inlineLabel("HIV") + `,"status":"final","code":{"text":"SECRET"},"subject":{"reference":"Patient/p1"}}`,
		"meta":      `{"resourceType":"Observation","id":"o1","meta":{` + inlineLabel("HIV") + `},"status":"final","code":{"text":"SECRET"},"subject":{"reference":"Patient/p1"}}`,
	} {
		h := newHarness(t, fhirJSONHandler(200, body))
		if resp, got := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(got, "SECRET") {
			t.Errorf("%s: denied caller: %d %s", name, resp.StatusCode, got)
		}
		if resp, got := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(got, "SECRET") {
			t.Errorf("%s: consented caller: %d %s", name, resp.StatusCode, got)
		}
	}
}
