package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestIdentifierAssignedByProgram: a record with an identifier the Part 2
// program assigned (a RelatedPerson the program registered, a subject
// named by the program's MRN) is the program's record; it was ordinary, so
// a RelatedPerson told org-b that its patient is the program's. A
// Practitioner with the program's staff number stays directory data, and
// a Patient stays no program's record (its enrolment is cut instead).
func TestIdentifierAssignedByProgram(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{{Name: "clinic", References: []string{"Organization/p2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	const assigned = `{"system":"http://clinic.example/ids","value":"7","assigner":{"reference":"Organization/p2"}}`
	for _, c := range []struct {
		name, in string
		want     bool
	}{
		{"RelatedPerson", `{"resourceType":"RelatedPerson","id":"r1","patient":{"reference":"Patient/p1"},"identifier":[` + assigned + `]}`, true},
		{"Observation by the program's MRN", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1","identifier":` + assigned + `}}`, true},
		{"Practitioner", `{"resourceType":"Practitioner","id":"pr1","identifier":[` + assigned + `]}`, false},
		{"Patient", `{"resourceType":"Patient","id":"p1","identifier":[` + assigned + `]}`, false},
		{"RelatedPerson, another assigner", `{"resourceType":"RelatedPerson","id":"r2","patient":{"reference":"Patient/p1"},"identifier":[{"value":"7","assigner":{"reference":"Organization/o9"}}]}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || (r.Program == "clinic") != c.want || r.Labels.Has(labels.Part2Policy) != c.want {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record %v", c.name, r.Program, r.Labels, err, c.want)
		}
	}
}
