package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 28, area B: an item of a claim billed for its SUD diagnosis
// (diagnosisSequence naming it) stayed ordinary beside the labelled
// diagnosis: written without inline labels, a receiver honouring them
// passed the item on, and a claim whose every item served the SUD
// diagnosis passed as mixed.
func TestItemPointingAtSensitiveDiagnosisQA28B(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mixed := `{"resourceType":"Claim","id":"c","patient":{"reference":"Patient/p"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}],
 "item":[{"sequence":1,"diagnosisSequence":[1]},{"sequence":2,"diagnosisSequence":[ 2 ]}]}`
	r, err := l.Label([]byte(mixed))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, e := range r.Elements {
		if e.Labels.Has(labels.SUD) {
			paths[e.Path] = true
		}
	}
	if !r.Mixed || !paths["diagnosis[1]"] || !paths["item[1]"] || paths["item[0]"] || len(paths) != 2 {
		t.Errorf("mixed %v, SUD elements %v; want diagnosis[1] and item[1]", r.Mixed, paths)
	}

	// every item serves the SUD diagnosis: the claim tells the story whole
	all := `{"resourceType":"ExplanationOfBenefit","id":"e","patient":{"reference":"Patient/p"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}],
 "item":[{"sequence":1,"diagnosisSequence":[1]}]}`
	r, err = l.Label([]byte(all))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mixed || !r.Labels.Has(labels.SUD) {
		t.Errorf("mixed %v, labels %v; want the EOB labelled SUD whole", r.Mixed, r.Labels)
	}
}
