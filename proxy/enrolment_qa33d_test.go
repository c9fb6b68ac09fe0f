package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEnrolmentElementExtensionsQA33D: a Patient's enrolment was read in
// managingOrganization, generalPractitioner, the top-level extension,
// modifierExtension and contact, and an identifier's assigner only. An
// element extension elsewhere (on a name, a primitive's _family or
// _birthDate, an address, a telecom, maritalStatus, communication, an
// identifier), or a reference or NPI inside link, naming the Part 2
// program, reached org-b, who may not read the program's records, and
// told it the person is the program's patient (42 CFR 2.13(c)). So did the
// program's NPI written as a JSON number (invalid FHIR a lax server keeps;
// any reader shows its digits). The consented caller still reads them;
// an ordinary extension stays.
func TestEnrolmentElementExtensionsQA33D(t *testing.T) {
	t.Parallel()
	const npi = `{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}`
	const npiNum = `{"system":"http://hl7.org/fhir/sid/us-npi","value":1847002312}`
	const ext = `[{"url":"http://example.org/enrolled-at","valueReference":{"reference":"Organization/p2"}}]`
	for name, pat := range map[string]string{
		"a name's extension":                   `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe","extension":` + ext + `}]}`,
		"_family's extension":                  `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe","_family":{"extension":` + ext + `}}]}`,
		"_birthDate's extension":               `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"birthDate":"1970-01-01","_birthDate":{"extension":` + ext + `}}`,
		"an address's extension":               `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"address":[{"city":"X","extension":` + ext + `}]}`,
		"a telecom's extension":                `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"telecom":[{"system":"phone","value":"1","extension":` + ext + `}]}`,
		"maritalStatus's extension":            `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"maritalStatus":{"text":"x","extension":` + ext + `}}`,
		"communication's extension":            `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"communication":[{"language":{"text":"en"},"extension":` + ext + `}]}`,
		"an identifier's extension, the NPI":   `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"identifier":[{"system":"urn:x","value":"77","extension":[{"url":"u","valueIdentifier":` + npi + `}]}]}`,
		"link, the program as assigner":        `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"link":[{"other":{"reference":"Patient/px","identifier":{"system":"urn:x","value":"1","assigner":{"reference":"Organization/p2"}}},"type":"seealso"}]}`,
		"valueIdentifier, NPI a number":        `{"resourceType":"Patient","id":"p1","extension":[{"url":"http://example.org/enrolled-at","valueIdentifier":` + npiNum + `}],"name":[{"family":"Doe"}]}`,
		"an assigner's NPI a number":           `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:x","value":"77","assigner":{"identifier":` + npiNum + `}}],"name":[{"family":"Doe"}]}`,
		"managingOrganization's NPI a number":  `{"resourceType":"Patient","id":"p1","managingOrganization":{"identifier":` + npiNum + `},"name":[{"family":"Doe"}]}`,
		"managingOrganization's own extension": `{"resourceType":"Patient","id":"p1","managingOrganization":{"display":"a clinic","extension":` + ext + `},"name":[{"family":"Doe"}]}`,
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
	// Ordinary element extensions and references stay.
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe","_family":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/humanname-own-prefix","valueString":"van"}]}}],"address":[{"city":"X","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/geolocation","extension":[{"url":"latitude","valueDecimal":1.5}]}]}],"link":[{"other":{"reference":"Patient/px"},"type":"seealso"}],"generalPractitioner":[{"reference":"Practitioner/gp1"}]}`
	h := newHarness(t, fhirJSONHandler(http.StatusOK, pat), withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	for _, want := range []string{`"van"`, `"latitude"`, `"Patient/px"`, `"Practitioner/gp1"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("ordinary elements: %d, %s missing: %s", resp.StatusCode, want, body)
		}
	}
}
