package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// QA round 35 (area B): a Patient's Part 2 enrolment is cut silently and
// the Patient is never withheld for it, so nothing it answers tells the
// enrolment. The cut-search rule withheld an enrolled Patient from every
// search reading the member cut from it: Patient?identifier=urn:mrn|123
// answered "total": 0 to org-b, while Patient?name=Doe showed the same
// patient with MRN 123 (a patient not enrolled is found by its MRN), which
// told org-b that the person is a Part 2 program's patient. A match that
// visible elements explain is kept; one only the cut element explains
// (the program's MRN system) is still withheld.
func TestEnrolledPatientFoundByVisibleElementQA35B(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"identifier":[` +
		`{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"RR-77","assigner":{"reference":"Organization/p2"}},` +
		`{"system":"urn:mrn","value":"123"}],"generalPractitioner":[{"reference":"Practitioner/gp"},{"reference":"Organization/p2"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/Patient") { // general-practitioner=gp: Organization/gp, PractitionerRole/gp read first (QA round 41, area I)
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
	}, withProgram)
	for _, c := range []struct {
		query string
		found bool
	}{
		{"name=Doe", true},
		{"identifier=urn:mrn|123", true},
		{"identifier=123", true},
		{"identifier=urn:mrn|", true},
		{"identifier=urn:mrn|999,urn:mrn|123", true},
		{"identifier=urn:mrn|123&general-practitioner=Practitioner/gp", true},
		{"general-practitioner=Practitioner/gp", true},
		{"general-practitioner=gp", true},
		// only the cut identifier explains these: withheld as before
		{"identifier=urn:oid:2.16.840.1.113883.3.999.1|", false},
		{"identifier=urn:oid:2.16.840.1.113883.3.999.1|RR-77", false},
		{"identifier=RR-77", false},
		{"identifier=urn:mrn|999,urn:oid:2.16.840.1.113883.3.999.1|RR-77", false},
		{"identifier=urn:mrn|123&identifier=RR-77", false},
		{"identifier:of-type=x|MR|123", false},
		{`identifier=urn:mrn|123\,x`, false},
	} {
		resp, body := h.get("/fhir/Patient?"+strings.ReplaceAll(url.PathEscape(c.query), "%26", "&"), tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "RR-77") || strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.query, found, c.found, body)
		}
		if total := `"total":1`; c.found != strings.Contains(body, total) {
			t.Errorf("%s: total: %s", c.query, body)
		}
	}
}

// An element extension naming the program (on a name, an address, a
// _birthDate) is cut from the Patient silently; the parameters that read
// the name, address or birth date do not read extensions, so the match
// stands: Patient?name=Doe answered nothing to org-b while
// Patient?birthdate=2000 showed p1, named Doe.
func TestEnrolledPatientElementExtensionSearchQA35B(t *testing.T) {
	t.Parallel()
	ext := `"extension":[{"url":"http://example.org/ext","valueReference":{"reference":"Organization/p2"}}]`
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe",` + ext + `}],"address":[{"city":"Springfield",` + ext + `}],` +
		`"birthDate":"2000-01-01","_birthDate":{` + ext + `}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
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
		{"gender=female", true},
		{"name=Doe", true},
		{"family:exact=Doe", true},
		{"address-city=Springfield", true},
		{"birthdate=2000-01-01", true},
		{"name=Doe&_sort=-birthdate", true},
	} {
		resp, body := h.get("/fhir/Patient?"+c.query, tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.query, found, c.found, body)
		}
	}
}
