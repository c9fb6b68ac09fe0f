package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientEnrolmentByBundleLocalReferenceQA31C: in a stored Bundle (a
// collection, a document) a Patient names its managing organisation by the
// entry's fullUrl (urn:uuid), and that entry is an Organization carrying a
// Part 2 program's NPI but no id. Neither the Patient's member (not a
// reference enrolmentElements can match) nor the Organization (no Type/id
// for withholdProgramDirectory) is recognised, so org-b read that the
// person is the program's patient.
func TestPatientEnrolmentByBundleLocalReferenceQA31C(t *testing.T) {
	t.Parallel()
	b := `{"resourceType":"Bundle","id":"b1","type":"collection","entry":[` +
		`{"fullUrl":"urn:uuid:0b6f4c1e-0000-4000-8000-000000000001","resource":{"resourceType":"Organization","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}],"name":"Zeta House"}},` +
		`{"fullUrl":"urn:uuid:0b6f4c1e-0000-4000-8000-000000000002","resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"urn:uuid:0b6f4c1e-0000-4000-8000-000000000001"},"name":[{"family":"Doe"}]}}]}`
	h := newHarness(t, fhirJSONHandler(http.StatusOK, b), withProgram)
	resp, out := h.get("/fhir/Bundle/b1", tokOther)
	if strings.Contains(out, "1847002312") || strings.Contains(out, "Zeta") || strings.Contains(out, "000000000001") {
		t.Errorf("org-b is told the patient is the program's: %d %s", resp.StatusCode, out)
	}
}
