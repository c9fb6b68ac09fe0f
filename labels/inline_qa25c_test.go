package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestInlineLabelURLSpellingsQA25C: an upstream inline label whose
// extension url is spelt as servers accept it (https, a trailing slash,
// "|1.0.0", white space, another case of scheme and host) labels its
// element: read as another extension, the element (an SUD diagnosis of a
// claim) stayed ordinary and went to every caller.
func TestInlineLabelURLSpellingsQA25C(t *testing.T) {
	t.Parallel()
	const path = "hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label"
	for _, url := range []string{
		"https://" + path,
		"http://" + path + "/",
		"http://" + path + "|1.0.0",
		" http://" + path + " ",
		"HTTP://HL7.ORG/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label",
	} {
		ext := `{"url":"` + url + `","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}`
		body := `{"resourceType":"Claim","id":"c1","patient":{"reference":"Patient/p1"},"diagnosis":[{"sequence":1,"extension":[` + ext + `],"diagnosisCodeableConcept":{"text":"x"}},{"sequence":2,"diagnosisCodeableConcept":{"text":"y"}}]}`
		r, err := labels.Default().Label([]byte(body))
		if err != nil {
			t.Fatalf("%q: %v", url, err)
		}
		found := false
		for _, e := range r.Elements {
			if e.Path == "diagnosis[0]" && e.Labels.Has(labels.SUD) {
				found = true
			}
		}
		if !found || !r.Labels.Has(labels.ProcessInline) {
			t.Errorf("%q: elements %+v, labels %v; want diagnosis[0] labelled SUD", url, r.Elements, r.Labels)
		}
	}
	// Another extension's url is no inline label.
	ext := `{"url":"http://example.org/` + path + `","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}`
	r, err := labels.Default().Label([]byte(`{"resourceType":"Claim","id":"c1","diagnosis":[{"sequence":1,"extension":[` + ext + `]}]}`))
	if err != nil || len(r.Elements) != 0 {
		t.Errorf("another extension: %+v, %v", r.Elements, err)
	}
}
