package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEnrolmentDepthKeepsOrdinaryExtensionsQA32F: the depth bound of
// namesWithin (badf3e2: past it the element is cut) cuts nothing of an
// ordinary Patient: US Core's race and ethnicity (two levels of
// extension) and a complex extension twelve levels deep reach a caller who
// may not read the program's records whole (QA round 32, area F).
func TestEnrolmentDepthKeepsOrdinaryExtensionsQA32F(t *testing.T) {
	t.Parallel()
	deep := `{"url":"http://example.org/leaf","valueString":"deep-leaf-kept"}`
	for range 12 {
		deep = `{"url":"http://example.org/n","extension":[` + deep + `]}`
	}
	pat := `{"resourceType":"Patient","id":"p1","extension":[` +
		`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2106-3","display":"White"}},{"url":"text","valueString":"race-kept"}]},` +
		`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2186-5","display":"Not Hispanic or Latino"}},{"url":"text","valueString":"ethnicity-kept"}]},` +
		`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex","valueCode":"F"},` + deep +
		`],"name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/p2"}}`
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
		t.Errorf("the program's managingOrganization reached a caller who may not read it: %s", body)
	}
	for _, want := range []string{"race-kept", "ethnicity-kept", "2106-3", "deep-leaf-kept", "us-core-birthsex"} {
		if !strings.Contains(body, want) {
			t.Errorf("an ordinary extension was cut (%s missing): %s", want, body)
		}
	}
}
