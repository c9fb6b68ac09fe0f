package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 35 (area B): a Patient whose generalPractitioner names a Part 2
// program beside its own doctor is found by the visible doctor
// (general-practitioner=Practitioner/gp, kept by the cut-search rule since
// cb060d3), but with the type written as a modifier
// (general-practitioner:Practitioner=gp, the same search) it was withheld,
// which told org-b that something of the Patient's practitioners was cut:
// the program's enrolment.
func TestEnrolledPatientTypedReferenceQA35B(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/hosp"},` +
		`"generalPractitioner":[{"reference":"Practitioner/gp"},{"reference":"Organization/p2"}]}`
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
		{"general-practitioner=Practitioner/gp", true},
		{"general-practitioner:Practitioner=gp", true},
		{"general-practitioner:Practitioner=gp,other", true},
		{"organization:Organization=hosp", true},
		// nothing visible explains these
		{"general-practitioner:Organization=gp", false},
		{"general-practitioner:PractitionerRole=gp", false},
		{"general-practitioner:Practitioner=Practitioner/gp", false},
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
