package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 29, area A: a claim's sensitive principal (or admitting)
// diagnosis, cut alone, left a claim with no principal diagnosis.
func TestSensitivePrincipalDiagnosisLabelsClaimWholeQA29A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	claim := func(typ string) string {
		return `{"resourceType":"Claim","id":"cl1","patient":{"reference":"Patient/p"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},
   "type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/ex-diagnosistype","code":"` + typ + `"}]}]},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]},
   "type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/ex-diagnosistype","code":"clinical"}]}]}],
 "item":[{"sequence":1,"diagnosisSequence":[2]}]}`
	}
	for _, c := range []struct {
		typ   string
		whole bool
	}{{"principal", true}, {"admitting", true}, {"Principal", true}, {"clinical", false}, {"discharge", false}} {
		r, err := l.Label([]byte(claim(c.typ)))
		if err != nil {
			t.Fatal(err)
		}
		if whole := !r.Mixed && r.Labels.Has(labels.SUD); whole != c.whole {
			t.Errorf("%s: mixed %v, labels %v; want labelled whole %v", c.typ, r.Mixed, r.Labels, c.whole)
		}
	}
	// An EOB whose principal diagnosis the upstream labelled inline.
	eob := strings.NewReplacer(`"resourceType":"Claim"`, `"resourceType":"ExplanationOfBenefit"`,
		`"code":"F11.20"}]},`, `"code":"Z00.00"}]},"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}],`).Replace(claim("principal"))
	r, err := l.Label([]byte(eob))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Labels.Has(labels.SUD) {
		t.Errorf("inline-labelled principal: labels %v; want SUD whole", r.Labels)
	}

	// A claim's primary procedure (ex-procedure-type) is one of a kind too.
	proc := func(typ string) string {
		return `{"resourceType":"Claim","id":"cl2","patient":{"reference":"Patient/p"},
 "procedure":[{"sequence":1,"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}],
   "type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/ex-procedure-type","code":"` + typ + `"}]}],"procedureCodeableConcept":{"text":"x"}},
  {"sequence":2,"procedureCodeableConcept":{"text":"y"}}],
 "item":[{"sequence":1,"procedureSequence":[2]}]}`
	}
	for typ, whole := range map[string]bool{"primary": true, "secondary": false} {
		r, err := l.Label([]byte(proc(typ)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(labels.SUD) != whole {
			t.Errorf("%s procedure: labels %v; want SUD whole %v", typ, r.Labels, whole)
		}
	}
}
