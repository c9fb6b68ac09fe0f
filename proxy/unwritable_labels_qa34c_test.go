package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnwritableLabelsQA34C: a resource the proxy must label whose element
// extension is no array (an object, a string), or a Bundle whose meta is
// no object or whose meta.security is no array, was withheld as 500
// 'exception' ("labels could not be written"), the proxy's own failure,
// where README promises 502 'processing' for an answer from the server the
// proxy cannot read, as a resource whose own meta.security is no array
// gets. It is the server's answer that is wrong: withheld all the same,
// now as 502, with nothing of it in the answer.
func TestUnwritableLabelsQA34C(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`
	for _, c := range []struct{ name, path, body string }{
		{"element extension an object", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2","extension":{"url":"http://example.org/x","valueString":"y"}},"name":[{"family":"Doe"}]}`},
		{"element extension a string", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2","extension":"abc"},"name":[{"family":"Doe"}]}`},
		{"in a Bundle", "/fhir/Patient?name=Doe", `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://u/Patient/p1","resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2","extension":{"url":"x"}},"name":[{"family":"Doe"}]}}]}`},
		{"Bundle meta a string", "/fhir/Observation?subject=Patient/p1", `{"resourceType":"Bundle","type":"searchset","meta":"Doe","entry":[{"fullUrl":"http://u/Observation/o1","resource":` + obs + `}]}`},
		{"Bundle meta.security an object", "/fhir/Observation?subject=Patient/p1", `{"resourceType":"Bundle","type":"searchset","meta":{"security":{"code":"Doe"}},"entry":[{"fullUrl":"http://u/Observation/o1","resource":` + obs + `}]}`},
	} {
		h := newHarness(t, fhirJSONHandler(http.StatusOK, c.body), withProgram)
		resp, body := h.get(c.path, tokConsented)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, `"OperationOutcome"`) || !strings.Contains(body, `"code":"processing"`) {
			t.Errorf("%s: %d %s; want 502 processing", c.name, resp.StatusCode, body)
		}
		if strings.Contains(body, "Doe") || strings.Contains(body, "p2") {
			t.Errorf("%s: the answer quotes the server's: %s", c.name, body)
		}
	}
}
