package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientEnrolmentThroughContainedOrExtensionQA31C: a Patient names a
// Part 2 program not only by a reference to Organization/p2 or its NPI in
// managingOrganization, generalPractitioner, identifier.assigner or
// contact.organization (d042657), but also through a contained
// Organization carrying the program's NPI that such a member references
// (#o1), a member naming the program by display alone, and an extension
// whose valueReference is the program. Each reached a caller who may not
// read the program's records: the person is the program's patient
// (42 CFR 2.13(c)). The consented caller still gets the Patient whole.
func TestPatientEnrolmentThroughContainedOrExtensionQA31C(t *testing.T) {
	t.Parallel()
	const npi = `{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}`
	for name, pat := range map[string]string{
		"a contained Organization, managingOrganization #o1": `{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Organization","id":"o1","identifier":[` + npi + `],"name":"Zeta House"}],"managingOrganization":{"reference":"#o1"},"name":[{"family":"Doe"}]}`,
		"a contained Organization, contact #o1":              `{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Organization","id":"o1","identifier":[` + npi + `],"name":"Zeta House"}],"contact":[{"organization":{"reference":"#o1"}}],"name":[{"family":"Doe"}]}`,
		"managingOrganization by display alone":              `{"resourceType":"Patient","id":"p1","managingOrganization":{"display":"The Clinic (Zeta House)"},"name":[{"family":"Doe"}]}`,
		"an extension naming the program":                    `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/fhir/StructureDefinition/enrolled-at","valueReference":{"reference":"Organization/p2","display":"Zeta House"}}],"name":[{"family":"Doe"}]}`,
	} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/Organization/") {
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
				return
			}
			fhirJSONHandler(http.StatusOK, pat)(w, r)
		}, withProgram)
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Doe"`) {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		if strings.Contains(body, "1847002312") || strings.Contains(body, "Zeta") || strings.Contains(body, "p2") ||
			strings.Contains(body, "Clinic") || strings.Contains(body, "42CFRPart2") || strings.Contains(body, `"REDACTED"`) {
			t.Errorf("%s: a caller who may not read the program's records is told the person is its patient: %s", name, body)
		}
		resp, body = h.get("/fhir/Patient/p1", tokConsented)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Zeta") && !strings.Contains(body, "Clinic") {
			t.Errorf("%s: consented caller: %d %s", name, resp.StatusCode, body)
		}
	}
}
