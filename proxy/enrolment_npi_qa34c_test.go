package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEnrolmentNPIWithoutSystemQA34C: a Patient naming a Part 2 program by
// the program's NPI written without the NPI's system (an extension's
// valueString or valueCode, a managingOrganization or assigner identifier
// with no system or only a type of NPI, a contact organization's) reached
// org-b, who may not read the program's records, and told it the person is
// the program's patient (42 CFR 2.13(c)). The consented caller still reads
// it; another number stays.
func TestEnrolmentNPIWithoutSystemQA34C(t *testing.T) {
	t.Parallel()
	for name, pat := range map[string]string{
		"extension valueString":          `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/enrolled-at-npi","valueString":"1847002312"}],"name":[{"family":"Doe"}]}`,
		"extension valueCode":            `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/enrolled-at-npi","valueCode":"1847002312"}],"name":[{"family":"Doe"}]}`,
		"complex extension valueString":  `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/program","extension":[{"url":"npi","valueString":" 1847002312 "}]}],"name":[{"family":"Doe"}]}`,
		"managingOrganization no system": `{"resourceType":"Patient","id":"p1","managingOrganization":{"identifier":{"value":"1847002312"}},"name":[{"family":"Doe"}]}`,
		"managingOrganization typed NPI": `{"resourceType":"Patient","id":"p1","managingOrganization":{"identifier":{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NPI"}]},"value":"1847002312"}},"name":[{"family":"Doe"}]}`,
		"assigner no system":             `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:x","value":"77","assigner":{"identifier":{"value":"1847002312"}}}],"name":[{"family":"Doe"}]}`,
		"an identifier's extension":      `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"identifier":[{"system":"urn:x","value":"77","extension":[{"url":"u","valueString":"1847002312"}]}]}`,
	} {
		h := newHarness(t, fhirJSONHandler(http.StatusOK, pat), withProgram)
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Doe"`) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
			continue
		}
		if strings.Contains(body, "1847002312") || strings.Contains(body, "42CFRPart2") || strings.Contains(body, `"REDACTED"`) {
			t.Errorf("%s: a caller who may not read the program's records is told the person is its patient: %s", name, body)
		}
		if resp, body := h.get("/fhir/Patient/p1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "1847002312") {
			t.Errorf("%s: consented caller: %d %s", name, resp.StatusCode, body)
		}
	}
	// Another number, and the NPI's digits in another system's identifier, stay.
	pat := `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/x","valueString":"1234567893"}],"identifier":[{"system":"http://hospital.example/mrn","value":"1847002312"}],"name":[{"family":"Doe"}]}`
	h := newHarness(t, fhirJSONHandler(http.StatusOK, pat), withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	for _, want := range []string{`"1234567893"`, `"http://hospital.example/mrn"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("ordinary elements: %d, %s missing: %s", resp.StatusCode, want, body)
		}
	}
}
