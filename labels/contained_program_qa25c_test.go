package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestContainedProgramQA25C: a resource whose performer is a contained
// copy of the Part 2 program's Organization or Practitioner (by the
// program's NPI, as C-CDA conversions write it), or a contained
// PractitionerRole or Encounter naming the program, is the program's
// record. The contained directory resource is never a Part 2 record
// itself and the container named only "#o", so neither was labelled and
// the procedure went out as ordinary data.
func TestContainedProgramQA25C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "clinic", References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	npi := `"identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}]`
	for name, in := range map[string]string{
		"contained Organization by NPI": `{"resourceType":"Procedure","contained":[{"resourceType":"Organization","id":"o",` + npi + `}],"performer":[{"actor":{"reference":"#o"}}]}`,
		"contained Practitioner by NPI": `{"resourceType":"Observation","contained":[{"resourceType":"Practitioner","id":"pr",` + npi + `}],"performer":[{"reference":"#pr"}]}`,
		"contained PractitionerRole":    `{"resourceType":"Procedure","contained":[{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/p2"}}],"performer":[{"actor":{"reference":"#r"}}]}`,
		"contained Encounter":           `{"resourceType":"Observation","contained":[{"resourceType":"Encounter","id":"e","serviceProvider":{"reference":"Organization/p2"}}],"encounter":{"reference":"#e"}}`,
	} {
		r, err := l.Label([]byte(in))
		if err != nil || r.Program != "clinic" || !r.Labels.Has(labels.Part2Policy) || !r.Labels.Has(labels.NoRedisclosure) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", name, r.Program, r.Labels, err)
		}
	}
	// A directory resource stays no record; another organisation is none.
	for name, in := range map[string]string{
		"Organization containing the program": `{"resourceType":"Organization","id":"x","contained":[{"resourceType":"Organization","id":"o",` + npi + `}],"partOf":{"reference":"#o"}}`,
		"contained other Organization":        `{"resourceType":"Procedure","contained":[{"resourceType":"Organization","id":"o","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1111111111"}]}],"performer":[{"actor":{"reference":"#o"}}]}`,
	} {
		if r, err := l.Label([]byte(in)); err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v", name, r.Program, r.Labels, err)
		}
	}
}
