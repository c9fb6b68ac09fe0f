package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// withSoloProgram is a Part 2 program that is one practitioner
// (labels.part2_programs names Practitioner/dr-solo, and its NPI).
func withSoloProgram(_ *Options, d *Deps) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
		Programs: []labels.Program{{Name: "solo", References: []string{"Practitioner/dr-solo"},
			Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}}})
	if err != nil {
		panic(err)
	}
	d.Labeller = l
}

// TestPatientSearchByProgramPractitionerIdentifierQA43G (QA round 43,
// helper G): where the Part 2 program is a practitioner (Practitioner/
// dr-solo, which labels README lists as a program reference), a Patient's
// generalPractitioner naming dr-solo is cut for org-b and
// Patient?general-practitioner=Practitioner/dr-solo is refused, but
// Patient?general-practitioner:identifier=<dr-solo's state licence> (and
// general-practitioner:Practitioner=<it>) went upstream and listed the
// program's patients (200): 6a3063f searched the directory for the
// identifier among every type the parameter may name but Practitioner.
// Refused (403) now; another practitioner's licence is searched as before.
func TestPatientSearchByProgramPractitionerIdentifierQA43G(t *testing.T) {
	t.Parallel()
	solo := `{"resourceType":"Practitioner","id":"dr-solo","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"},` +
		`{"system":"urn:state-licence","value":"LIC-9"}]}`
	other := `{"resourceType":"Practitioner","id":"dr-b","identifier":[{"system":"urn:state-licence","value":"LIC-2"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
		ident := r.URL.Query().Get("identifier")
		switch {
		case rest == "Patient/p1":
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"Practitioner/dr-solo"}]}`)(w, r)
		case rest == "Patient":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"match"}}]}`)(w, r)
		case rest == "Practitioner" && strings.HasSuffix(ident, "LIC-9"):
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"Practitioner/dr-solo","resource":`+solo+`,"search":{"mode":"match"}}]}`)(w, r)
		case rest == "Practitioner" && strings.HasSuffix(ident, "LIC-2"):
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"Practitioner/dr-b","resource":`+other+`,"search":{"mode":"match"}}]}`)(w, r)
		case strings.Contains(rest, "/"):
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
		}
	}, withSoloProgram)
	// The response side: dr-solo is the program, cut from p1.
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "dr-solo") {
		t.Fatalf("Patient/p1: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{
		"general-practitioner=Practitioner/dr-solo",
		"general-practitioner:identifier=" + url.QueryEscape("urn:state-licence|LIC-9"),
		"general-practitioner:identifier=LIC-9",
		"general-practitioner:Practitioner=" + url.QueryEscape("urn:state-licence|LIC-9"),
	} {
		if resp, body := h.get("/fhir/Patient?"+q, tokOther); resp.StatusCode != http.StatusForbidden {
			t.Errorf("Patient?%s: %d %.200s, want 403", q, resp.StatusCode, body)
		}
	}
	q := "general-practitioner:identifier=" + url.QueryEscape("urn:state-licence|LIC-2")
	if resp, body := h.get("/fhir/Patient?"+q, tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"p1"`) {
		t.Errorf("Patient?%s (another practitioner): %d %s, want 200", q, resp.StatusCode, body)
	}
}
