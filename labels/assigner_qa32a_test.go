package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAssignerSpellingsQA32A: a record with an identifier the Part 2
// program assigned is the program's record (a48057c) whatever names the
// assigner: the program's NPI as the assigner's identifier, a contained
// Organization with the NPI, an absolute reference, and on a Person, a
// Group or a Coverage as on a RelatedPerson (QA round 32, area A's
// review; no change in behaviour).
func TestAssignerSpellingsQA32A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{{Name: "clinic", References: []string{"Organization/p2"},
		Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1234567893"}}}})
	if err != nil {
		t.Fatal(err)
	}
	byID := `{"system":"http://clinic.example/ids","value":"7","assigner":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}}}`
	byContained := `{"system":"http://clinic.example/ids","value":"7","assigner":{"reference":"#org"}}`
	contained := `"contained":[{"resourceType":"Organization","id":"org","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}],`
	byAbs := `{"system":"http://clinic.example/ids","value":"7","assigner":{"reference":"https://ehr.example/fhir/Organization/p2"}}`
	for _, c := range []struct {
		name, in string
		want     bool
	}{
		{"RelatedPerson, assigner by identifier", `{"resourceType":"RelatedPerson","id":"r1","patient":{"reference":"Patient/p1"},"identifier":[` + byID + `]}`, true},
		{"RelatedPerson, assigner contained", `{"resourceType":"RelatedPerson","id":"r1",` + contained + `"patient":{"reference":"Patient/p1"},"identifier":[` + byContained + `]}`, true},
		{"RelatedPerson, assigner absolute", `{"resourceType":"RelatedPerson","id":"r1","patient":{"reference":"Patient/p1"},"identifier":[` + byAbs + `]}`, true},
		{"Observation, subject by MRN by identifier", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1","identifier":` + byID + `}}`, true},
		{"Person", `{"resourceType":"Person","id":"pe1","identifier":[` + byID + `],"link":[{"target":{"reference":"Patient/p1"}}]}`, true},
		{"Group", `{"resourceType":"Group","id":"g1","type":"person","actual":true,"identifier":[` + byID + `],"member":[{"entity":{"reference":"Patient/p1"}}]}`, true},
		{"Coverage", `{"resourceType":"Coverage","id":"cv1","status":"active","beneficiary":{"reference":"Patient/p1"},"identifier":[` + byID + `]}`, true},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || (r.Program == "clinic") != c.want || r.Labels.Has(labels.Part2Policy) != c.want {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record %v", c.name, r.Program, r.Labels, err, c.want)
		}
	}
}
