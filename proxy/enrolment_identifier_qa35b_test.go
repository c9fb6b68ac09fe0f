package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 35 (area B): an identifier a Part 2 program assigned is cut
// from a Patient silently, and a Patient match that no visible identifier
// explains is withheld. _sort=identifier and identifier with :missing,
// :not, :text ... test the cut identifier whatever their value: the
// enrolled patient answered by Patient?name=Doe was left out of
// Patient?name=Doe&_sort=identifier, which told org-b of the enrolment.
// Those are refused (403) when programs are configured, as _sort and
// modifiers of organization are; :of-type is judged on the visible
// identifiers.
func TestPatientIdentifierModifiersQA35B(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"identifier":[` +
		`{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"RR-77","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"assigner":{"reference":"Organization/p2"}},` +
		`{"system":"urn:mrn","value":"123","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]}}]}`
	handler := fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)
	h := newHarness(t, handler, withProgram)
	for _, q := range []string{
		"/fhir/Patient?_sort=identifier",
		"/fhir/Patient?name=Doe&_sort=-identifier",
		"/fhir/Patient?name=Doe&_sort=name,IDENTIFIER",
		"/fhir/Patient?identifier:missing=true",
		"/fhir/Patient?identifier:not=urn:oid:2.16.840.1.113883.3.999.1|RR-77",
		"/fhir/Patient?identifier:text=Riverside",
		"/fhir?_type=Patient&identifier:missing=false",
	} {
		resp, body := h.get(q, tokOther)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", q, resp.StatusCode, body)
		}
		for len(h.seen) > 0 {
			t.Errorf("%s: a refused search reached the server: %s", q, (<-h.seen).URL.RawQuery)
		}
	}
	resp, body := h.do(http.MethodPost, "/fhir/Patient/_search", tokOther, "application/x-www-form-urlencoded", "identifier:missing=true")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST _search identifier:missing: %d %s, want 403", resp.StatusCode, body)
	}
	for len(h.seen) > 0 {
		<-h.seen
	}
	for _, c := range []struct {
		query string
		found bool
	}{
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123", true},
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|RR-77", false},
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|SS|123", false},
	} {
		resp, body := h.get("/fhir/Patient?"+c.query, tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "RR-77") {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.query, found, c.found, body)
		}
	}
	// Without programs nothing is cut, and the sort goes on.
	h2 := newHarness(t, handler)
	if resp, body := h2.get("/fhir/Patient?_sort=identifier", tokOther); resp.StatusCode != http.StatusOK {
		t.Errorf("no programs: %d %s", resp.StatusCode, body)
	}
}
