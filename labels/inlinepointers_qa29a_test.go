package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 29, area A: an item of a claim pointing at a careTeam member,
// supportingInfo, diagnosis or procedure that the upstream labelled
// inline stayed ordinary (only derived labels were followed): written
// without inline labels for a caller who may read it all, a receiver
// honouring them passed on the service and its amount while withholding
// what it was billed for; and a ClaimResponse answering the claim took
// those labels whole.
func TestItemsFollowInlineLabelledElementsQA29A(t *testing.T) {
	t.Parallel()
	ext := `"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}]`
	cl := `{"resourceType":"Claim","id":"cl1","patient":{"reference":"Patient/p"},
 "careTeam":[{` + ext + `,"sequence":1,"provider":{"reference":"Practitioner/x"}},{"sequence":2,"provider":{"reference":"Practitioner/y"}}],
 "supportingInfo":[{` + ext + `,"sequence":1,"category":{"text":"info"}}],
 "diagnosis":[{` + ext + `,"sequence":1,"diagnosisCodeableConcept":{"text":"a"}},{"sequence":2,"diagnosisCodeableConcept":{"text":"b"},"type":[{"text":"x"}]}],
 "item":[{"sequence":1,"careTeamSequence":[1],"diagnosisSequence":[2]},{"sequence":2,"careTeamSequence":[2],"diagnosisSequence":[1]},
  {"sequence":3,"careTeamSequence":[2],"informationSequence":[1]},{"sequence":4,"careTeamSequence":[2],"diagnosisSequence":[2]}]}`
	resp := `{"resourceType":"ClaimResponse","id":"cr1","patient":{"reference":"Patient/p"},"request":{"reference":"Claim/cl1"},
 "item":[{"itemSequence":1},{"itemSequence":2},{"itemSequence":3},{"itemSequence":4}]}`
	rs, err := labels.Default().LabelAll([][]byte{[]byte(cl), []byte(resp)})
	if err != nil {
		t.Fatal(err)
	}
	want := "careTeam[0] diagnosis[0] item[0] item[1] item[2] supportingInfo[0]"
	if r := rs[0]; !r.Mixed || r.Labels.Has(labels.SUD) || sudPaths(r) != want {
		t.Errorf("claim: mixed %v, labels %v, SUD elements %q; want %q", r.Mixed, r.Labels, sudPaths(r), want)
	}
	if r := rs[1]; !r.Mixed || r.Labels.Has(labels.SUD) || sudPaths(r) != "item[0] item[1] item[2]" {
		t.Errorf("response: mixed %v, labels %v, SUD elements %q", r.Mixed, r.Labels, sudPaths(r))
	}
}
