package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestMatchEnrolledPatientAsSearchQA43E (QA round 43, helper E; round 42's
// B-3): a Patient's Part 2 enrolment is cut silently, and the cut-search
// rule keeps an enrolled Patient that what the caller sees explains
// (Patient?name=Doe answers p1, its managingOrganization cut). A $match's
// query was not known to the rule, so every match of an enrolled Patient
// was withheld: POST Patient/$match {name: Doe} answered org-b an empty
// searchset where the search answered p1, and a patient not enrolled is
// found by both: comparing the two told the enrolment (42 CFR 2.13(c)).
// The $match's given Patient now enters the rule as a search's query
// does: a match is kept when each member given that reads a cut member is
// explained by visible elements (each given identifier or reference
// satisfied exactly by a visible one, element extensions not read);
// otherwise withheld as before.
func TestMatchEnrolledPatientAsSearchQA43E(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"birthDate":"2000-01-01","identifier":[` +
		`{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"RR-77","assigner":{"reference":"Organization/p2"}},` +
		`{"system":"urn:mrn","value":"123"}],"managingOrganization":{"reference":"Organization/p2"},` +
		`"generalPractitioner":[{"reference":"Practitioner/gp"},{"reference":"Organization/p2"}]}`
	answer := `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":` + pat +
		`,"search":{"mode":"match","score":0.9,"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/match-grade","valueCode":"probable"}]}}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Patient/p1") { // the instance's $match reads it first (guardInstance)
			fhirJSONHandler(200, pat)(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/Practitioner/gp") {
			fhirJSONHandler(200, `{"resourceType":"Practitioner","id":"gp"}`)(w, r)
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/Patient") && !strings.HasSuffix(r.URL.Path, "/$match") {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, answer)(w, r)
	}, withProgram)
	tok := "Organization/org-b|TREAT|user/*.cruds"
	leaks := func(body string) bool {
		return strings.Contains(body, "RR-77") || strings.Contains(body, "Organization/p2")
	}
	resp, body := h.get("/fhir/Patient?name=Doe", tok)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"p1"`) || leaks(body) {
		t.Fatalf("Patient?name=Doe: %d %s", resp.StatusCode, body)
	}
	params := func(pat string, more string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + pat + `}` + more + `]}`
	}
	for _, c := range []struct {
		name, path, body string
		found            bool
	}{
		{"name", "/fhir/Patient/$match", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`, true},
		{"name in Parameters", "/fhir/Patient/$match", params(`{"resourceType":"Patient","name":[{"family":"Doe"}],"birthDate":"2000-01-01"}`, `,{"name":"onlyCertainMatches","valueBoolean":true},{"name":"count","valueInteger":5}`), true},
		{"visible identifier", "/fhir/Patient/$match", `{"resourceType":"Patient","name":[{"family":"Doe"}],"identifier":[{"system":"urn:mrn","value":"123"}]}`, true},
		{"visible generalPractitioner", "/fhir/Patient/$match", `{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner/gp"}]}`, true},
		{"escaped key, visible identifier", "/fhir/Patient/$match", `{"resourceType":"Patient","ident\u0069fier":[{"system":"urn:mrn","value":"123"}]}`, true},
		// only the cut identifier explains these: withheld as before
		{"the cut identifier, no assigner", "/fhir/Patient/$match", `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"RR-77"}]}`, false},
		{"a visible and the cut identifier", "/fhir/Patient/$match", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"123"},{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"RR-77"}]}`, false},
		{"identifier by value alone", "/fhir/Patient/$match", `{"resourceType":"Patient","identifier":[{"value":"RR-77"}]}`, false},
		{"identifier with no value", "/fhir/Patient/$match", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn"}]}`, false},
		{"generalPractitioner by display", "/fhir/Patient/$match", `{"resourceType":"Patient","generalPractitioner":[{"display":"Riverside"}]}`, false},
		{"two Patients", "/fhir/Patient/$match", `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","name":[{"family":"Doe"}]}},{"name":"resource","resource":{"resourceType":"Patient","identifier":[{"value":"RR-77"}]}}]}`, false},
		{"another parameter", "/fhir/Patient/$match", params(`{"resourceType":"Patient","name":[{"family":"Doe"}]}`, `,{"name":"identifier","valueString":"RR-77"}`), false},
		{"a query parameter", "/fhir/Patient/$match?identifier=RR-77", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`, false},
		{"instance", "/fhir/Patient/p1/$match", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`, false},
	} {
		resp, body := h.do(http.MethodPost, c.path, tok, "application/fhir+json", c.body)
		if resp.StatusCode != http.StatusOK || leaks(body) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.name, found, c.found, body)
		}
		if c.found != strings.Contains(body, `"total":1`) {
			t.Errorf("%s: total: %s", c.name, body)
		}
	}
}

// An element extension naming the program (on a name) is cut silently; a
// $match by name is kept as Patient?name= keeps it, and one by the birth
// date, whose element extension is cut too.
func TestMatchElementExtensionCutQA43E(t *testing.T) {
	t.Parallel()
	ext := `"extension":[{"url":"http://example.org/ext","valueReference":{"reference":"Organization/p2"}}]`
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe",` + ext + `}],"birthDate":"2000-01-01","_birthDate":{` + ext + `}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/$match") {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome"}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
	}, withProgram)
	for _, body := range []string{
		`{"resourceType":"Patient","name":[{"family":"Doe"}]}`,
		`{"resourceType":"Patient","name":[{"family":"Doe"}],"birthDate":"2000-01-01"}`,
	} {
		resp, got := h.do(http.MethodPost, "/fhir/Patient/$match", "Organization/org-b|TREAT|user/*.cruds", "application/fhir+json", body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(got, `"id":"p1"`) || strings.Contains(got, "Organization/p2") {
			t.Errorf("%s: %d %s", body, resp.StatusCode, got)
		}
	}
}
