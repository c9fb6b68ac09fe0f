package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 35 (area B): Patient?organization=<a Part 2 program> is refused
// (403) because Patients are never withheld and the answer would be the
// program's patient list; Patient/$match with a Patient naming the program
// (managingOrganization, a generalPractitioner by the program's NPI, an
// identifier it assigned) reached the server, which scores the stored
// Patients against every element given, the members ds4p cuts from them
// included. It is refused the same way, on its own and in a batch; a
// $match naming no program goes on.
func TestMatchByProgramRefusedQA35B(t *testing.T) {
	t.Parallel()
	const tok = "Organization/org-b|TREAT|user/*.*"
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Organization/p2"):
			fhirJSONHandler(200, `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Organization/hosp"):
			fhirJSONHandler(200, `{"resourceType":"Organization","id":"hosp","name":"General Hospital"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/R4") || strings.HasSuffix(r.URL.Path, "/R4/"):
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"},"resource":{"resourceType":"Bundle","type":"searchset"}}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
		}
	}, withProgram)
	params := func(pat string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + pat + `},{"name":"count","valueInteger":10}]}`
	}
	for _, c := range []struct {
		name, path, body string
		refused          bool
	}{
		{"managingOrganization", "/fhir/Patient/$match", params(`{"resourceType":"Patient","managingOrganization":{"reference":"Organization/p2"}}`), true},
		{"generalPractitioner by NPI", "/fhir/Patient/$match", params(`{"resourceType":"Patient","generalPractitioner":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}]}`), true},
		{"identifier assigned by the program", "/fhir/Patient/$match", params(`{"resourceType":"Patient","identifier":[{"system":"urn:x","value":"1","assigner":{"reference":"Organization/p2"}}]}`), true},
		{"the Patient as the body", "/fhir/Patient/$match", `{"resourceType":"Patient","managingOrganization":{"reference":"Organization/p2"}}`, true},
		{"one parameter as an object", "/fhir/Patient/$match", `{"resourceType":"Parameters","parameter":{"name":"resource","resource":{"resourceType":"Patient","managingOrganization":{"reference":"Organization/p2"}}}}`, true},
		{"in a batch", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"POST","url":"Patient/$match"},"resource":` +
			params(`{"resourceType":"Patient","managingOrganization":{"reference":"Organization/p2"}}`) + `}]}`, true},
		{"no program", "/fhir/Patient/$match", params(`{"resourceType":"Patient","name":[{"family":"Doe"}],"birthDate":"2000-01-01","managingOrganization":{"reference":"Organization/hosp"}}`), false},
	} {
		resp, body := h.do(http.MethodPost, c.path, tok, "application/fhir+json", c.body)
		matched := false
		for len(h.seen) > 0 {
			r := <-h.seen
			matched = matched || strings.HasSuffix(r.URL.Path, "/$match") || strings.HasSuffix(r.URL.Path, "/R4")
		}
		switch {
		case c.refused && matched:
			t.Errorf("%s: the $match reached the server: %d %s", c.name, resp.StatusCode, body)
		case c.refused && c.path == "/fhir/Patient/$match" && resp.StatusCode != http.StatusForbidden:
			t.Errorf("%s: %d %s, want 403", c.name, resp.StatusCode, body)
		case !c.refused && (!matched || resp.StatusCode != http.StatusOK):
			t.Errorf("%s: %d %s, want it forwarded", c.name, resp.StatusCode, body)
		}
	}
}
