package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 34, area A: a Patient whose contained member is one object
// rather than an array of one (invalid FHIR JSON, but a server may store
// it, and other readers take it as the array's one resource), an
// Organization carrying the Part 2 program's NPI that its
// managingOrganization references (#o1), or whose contained Organization
// writes its identifier as one object. The enrolment cut read neither, and
// org-b, who may not read the program's records, was told the person is
// the program's patient ("Zeta House", its NPI), 200. They are cut as they
// are from an array (QA round 31, area C); the consented caller gets them.
func TestPatientEnrolmentContainedObjectQA34A(t *testing.T) {
	t.Parallel()
	const npi = `{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}`
	for name, pat := range map[string]string{
		"contained one object":              `{"resourceType":"Patient","id":"p1","contained":{"resourceType":"Organization","id":"o1","identifier":[` + npi + `],"name":"Zeta House"},"managingOrganization":{"reference":"#o1"},"name":[{"family":"Doe"}]}`,
		"contained one object, escaped key": `{"resourceType":"Patient","id":"p1","cont\u0061ined":{"resourceType":"Organization","id":"o1","identifier":[` + npi + `],"name":"Zeta House"},"managingOrganization":{"reference":"#o1"},"name":[{"family":"Doe"}]}`,
		"contained identifier one object":   `{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Organization","id":"o1","identifier":` + npi + `,"name":"Zeta House"}],"generalPractitioner":[{"reference":"#o1"}],"name":[{"family":"Doe"}]}`,
		"both one object":                   `{"resourceType":"Patient","id":"p1","contained":{"resourceType":"Organization","id":"o1","identifier":` + npi + `,"name":"Zeta House"},"managingOrganization":{"reference":"#o1"},"name":[{"family":"Doe"}]}`,
	} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			fhirJSONHandler(http.StatusOK, pat)(w, r)
		}, withProgram)
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Doe"`) {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		if strings.Contains(body, "1847002312") || strings.Contains(body, "Zeta") || strings.Contains(body, "#o1") ||
			strings.Contains(body, "42CFRPart2") || strings.Contains(body, `"REDACTED"`) {
			t.Errorf("%s: a caller who may not read the program's records is told the person is its patient: %s", name, body)
		}
		resp, body = h.get("/fhir/Patient/p1", tokConsented)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Zeta") {
			t.Errorf("%s: consented caller: %d %s", name, resp.StatusCode, body)
		}
	}
}
