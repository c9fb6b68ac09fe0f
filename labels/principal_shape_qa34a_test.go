package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: a claim's SUD principal diagnosis whose type, or
// the type's coding, is one object rather than an array of one (invalid
// FHIR JSON, but a server may store it, and other readers take it as the
// array's one element) labels the claim whole, as when written as arrays
// (QA round 29, area A). Read as untyped, it was cut alone, and the claim
// left without a principal diagnosis told that one was withheld.
func TestPrincipalDiagnosisTypeShapesQA34A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	const coding = `{"system":"http://terminology.hl7.org/CodeSystem/ex-diagnosistype","code":"principal"}`
	claim := func(typ string) string {
		return `{"resourceType":"Claim","id":"cl1","patient":{"reference":"Patient/p"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"type":` + typ + `},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}],
 "item":[{"sequence":1,"diagnosisSequence":[2]}]}`
	}
	for name, typ := range map[string]string{
		"arrays":            `[{"coding":[` + coding + `]}]`,
		"type one object":   `{"coding":[` + coding + `]}`,
		"coding one object": `[{"coding":` + coding + `}]`,
		"both one object":   `{"coding":` + coding + `}`,
		"both, escaped key": `{"c\u006fding":` + coding + `}`,
	} {
		r, err := l.Label([]byte(claim(typ)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Mixed || !r.Labels.Has(labels.SUD) {
			t.Errorf("%s: mixed %v, labels %v; want the claim labelled whole", name, r.Mixed, r.Labels)
		}
	}
}
