package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientEnrolmentSpellingsQA32A: 209d965 cut a Patient's extension
// whose valueReference is the Part 2 program, but not a complex
// extension whose inner extension names it, a modifierExtension, an
// extension whose valueIdentifier is the program's NPI, nor a contact's
// extension naming it: each told org-b, who may not read the program's
// records, that the person is the program's patient (42 CFR 2.13(c)).
// The consented caller still reads them.
func TestPatientEnrolmentSpellingsQA32A(t *testing.T) {
	t.Parallel()
	const npi = `{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}`
	for name, pat := range map[string]string{
		"a complex extension naming the program":   `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/enrolment","extension":[{"url":"site","valueReference":{"reference":"Organization/p2"}}]}],"name":[{"family":"Doe"}]}`,
		"a modifierExtension naming the program":   `{"resourceType":"Patient","id":"p1","modifierExtension":[{"url":"http://example.org/enrolled-at","valueReference":{"reference":"Organization/p2"}}],"name":[{"family":"Doe"}]}`,
		"an extension's valueIdentifier the NPI":   `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/enrolled-at","valueIdentifier":` + npi + `}],"name":[{"family":"Doe"}]}`,
		"managingOrganization by absolute URL":     `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"http://up.example/fhir/R4/Organization/p2"},"name":[{"family":"Doe"}]}`,
		"a contact's extension naming the program": `{"resourceType":"Patient","id":"p1","contact":[{"name":{"family":"Roe"},"extension":[{"url":"http://example.org/at","valueReference":{"reference":"Organization/p2"}}]}],"name":[{"family":"Doe"}]}`,
		"an identifier's assigner by NPI":          `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:x","value":"77","assigner":{"identifier":` + npi + `}}],"name":[{"family":"Doe"}]}`,
		"generalPractitioner, a contained NPI":     `{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Organization","id":"o1","identifier":[` + npi + `]}],"generalPractitioner":[{"reference":"#o1"}],"name":[{"family":"Doe"}]}`,
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
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
			continue
		}
		if strings.Contains(body, "1847002312") || strings.Contains(body, "Organization/p2") || strings.Contains(body, "42CFRPart2") || strings.Contains(body, `"REDACTED"`) {
			t.Errorf("%s: a caller who may not read the program's records is told the person is its patient: %s", name, body)
		}
		if resp, body := h.get("/fhir/Patient/p1", tokConsented); resp.StatusCode != http.StatusOK ||
			!strings.Contains(body, "1847002312") && !strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: consented caller: %d %s", name, resp.StatusCode, body)
		}
	}
}
