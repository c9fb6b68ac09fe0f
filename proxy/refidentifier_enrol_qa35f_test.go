package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// QA round 35 (area F): general-practitioner:identifier (and
// organization:identifier) select a Patient by the identifier written in
// its reference (Reference.identifier, FHIR R4 search 3.1.1.4.9). The
// guard lets it through unless it names a program, and since cb060d3 a
// match visible elements explain is kept, but any modifier but a type was
// taken as unexplained: Patient?general-practitioner:identifier=<gp's NPI>
// answered nothing to org-b for a patient whose visible clinician carries
// that NPI beside a cut Part 2 program, where a patient not enrolled is
// found: the difference told the enrolment. Such a match is now judged on
// the visible references' identifiers.
func TestEnrolledPatientReferenceIdentifierQA35F(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],` +
		`"managingOrganization":{"identifier":{"system":"urn:org","value":"hosp"}},` +
		`"generalPractitioner":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1111111112"},"display":"Dr Who"},{"reference":"Organization/p2"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasSuffix(p, "/Organization") || strings.HasSuffix(p, "/PractitionerRole") ||
			strings.HasSuffix(p, "/Location") || strings.HasSuffix(p, "/HealthcareService") || strings.HasSuffix(p, "/Practitioner") {
			// The directory searched by the identifier (QA round 43,
			// helpers D and G): no entry carries it.
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/Patient") {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome"}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
	}, withProgram)
	for _, c := range []struct {
		query string
		found bool
	}{
		{"general-practitioner:identifier=http://hl7.org/fhir/sid/us-npi|1111111112", true},
		{"general-practitioner:identifier=1111111112", true},
		{"general-practitioner:identifier=urn:x|1,http://hl7.org/fhir/sid/us-npi|", true},
		// no visible reference carries it: withheld as before
		{"general-practitioner:identifier=http://hl7.org/fhir/sid/us-npi|2222222222", false},
		{"general-practitioner:identifier=urn:org|hosp", false},
		{`general-practitioner:identifier=http://hl7.org/fhir/sid/us-npi|1111111112\,`, false},
	} {
		resp, body := h.get("/fhir/Patient?"+url.PathEscape(c.query), tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.query, found, c.found, body)
		}
	}
}
