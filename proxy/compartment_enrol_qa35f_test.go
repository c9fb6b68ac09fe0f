package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 35 (area F): a Patient's Part 2 enrolment (a program in its
// generalPractitioner) is cut silently, and since cb060d3 a match that a
// visible element explains is kept: Patient?general-practitioner=
// Practitioner/gp answers p1, whose clinician gp is shown beside the cut
// program. The compartment search Practitioner/gp/Patient, which selects
// by the same member, still withheld every such match, so it answered
// total 0 for p1 where a patient not enrolled is answered: the difference
// told org-b of the enrolment. A compartment match that a visible member
// names is now kept; one only the cut member could explain is withheld.
func TestCompartmentEnrolledPatientQA35F(t *testing.T) {
	t.Parallel()
	enrolled := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/hosp"},` +
		`"generalPractitioner":[{"reference":"Practitioner/gp"},{"reference":"Organization/p2"}]}`
	onlyCut := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"generalPractitioner":[{"reference":"Organization/p2"}]}`
	for _, c := range []struct {
		pat, path string
		found     bool
	}{
		{enrolled, "/fhir/Patient?general-practitioner=Practitioner/gp", true},
		{enrolled, "/fhir/Practitioner/gp/Patient", true},
		{enrolled, "/fhir/Practitioner/gp/Patient?name=Doe", true},
		{enrolled, "/fhir/Organization/hosp/Patient", true},
		// nothing visible puts it in the compartment: withheld as before
		{onlyCut, "/fhir/Practitioner/gp/Patient", false},
		{enrolled, "/fhir/Practitioner/gp2/Patient", false},
	} {
		pat := c.pat
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/Practitioner/gp"), strings.HasSuffix(r.URL.Path, "/Practitioner/gp2"):
				fhirJSONHandler(200, `{"resourceType":"Practitioner","id":"gp","name":[{"family":"Who"}]}`)(w, r)
			case strings.HasSuffix(r.URL.Path, "/Organization/hosp"):
				fhirJSONHandler(200, `{"resourceType":"Organization","id":"hosp","name":"General Hospital"}`)(w, r)
			default:
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
			}
		}, withProgram)
		resp, body := h.get(c.path, tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.path, found, c.found, body)
		}
	}
}
