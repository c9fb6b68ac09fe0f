package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// A RelatedPerson whose identifier the Part 2 program assigned is the
// program's record: org-b, whom the patient's consent does not permit,
// reads it as missing (it told org-b that its patient is the program's),
// org-a reads it; a Practitioner with the program's staff number stays
// readable to both (QA round 31, area C's note).
func TestIdentifierAssignedByProgramWithheld(t *testing.T) {
	t.Parallel()
	const assigned = `{"system":"http://clinic.example/ids","value":"7","assigner":{"reference":"Organization/p2"}}`
	bodies := map[string]string{
		"/fhir/R4/RelatedPerson/r1": `{"resourceType":"RelatedPerson","id":"r1","patient":{"reference":"Patient/p1"},"identifier":[` + assigned + `]}`,
		"/fhir/R4/Practitioner/pr1": `{"resourceType":"Practitioner","id":"pr1","identifier":[` + assigned + `]}`,
	}
	h := newHarness(t, routes(bodies), func(_ *Options, d *Deps) {
		l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{Name: "clinic", References: []string{"Organization/p2"}}}})
		if err != nil {
			t.Fatal(err)
		}
		d.Labeller = l
	})
	r1, b1 := h.get("/fhir/RelatedPerson/r1", tokOther)
	r2, b2 := h.get("/fhir/RelatedPerson/zz1", tokOther)
	if r1.StatusCode != http.StatusNotFound || r2.StatusCode != http.StatusNotFound || strings.ReplaceAll(b1, "r1", "X") != strings.ReplaceAll(b2, "zz1", "X") {
		t.Errorf("RelatedPerson/r1 for org-b: %d %s; a missing one: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if resp, body := h.get("/fhir/RelatedPerson/r1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("RelatedPerson/r1 for org-a: %d %s, want it labelled 42CFRPart2", resp.StatusCode, body)
	}
	for _, tok := range []string{tokOther, tokConsented} {
		if resp, body := h.get("/fhir/Practitioner/pr1", tok); resp.StatusCode != http.StatusOK {
			t.Errorf("Practitioner/pr1: %d %s, want it", resp.StatusCode, body)
		}
	}
}
