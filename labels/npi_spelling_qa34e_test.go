package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramNPISpellingsQA34E: a Part 2 program's NPI as a JSON number
// outside an identifier (an extension's valueInteger or valueDecimal, an
// exponent), or in its 15-digit card-issuer form (80840 and the ten
// digits, with the NPI's system or none), makes the record the
// program's. They went to a payer as ordinary data.
func TestProgramNPISpellingsQA34E(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "Riverside Recovery Center", References: []string{"Organization/part2-clinic"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	const head = `{"resourceType":"Procedure","subject":{"reference":"Patient/1"},`
	for _, c := range []struct{ name, in string }{
		{"extension valueInteger", `"extension":[{"url":"http://example.org/ordering-facility-npi","valueInteger":1847002312}]}`},
		{"extension valueDecimal with exponent", `"extension":[{"url":"http://example.org/npi","valueDecimal":1.847002312e9}]}`},
		{"number in an array", `"extension":[{"url":"http://example.org/npis","extension":[{"url":"n","valueInteger":1847002312}]}]}`},
		{"15-digit form under the NPI's system", `"performer":[{"actor":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"808401847002312"}}}]}`},
		{"15-digit form without system", `"performer":[{"actor":{"identifier":{"value":"808401847002312"}}}]}`},
		{"15-digit form in a valueString", `"extension":[{"url":"http://example.org/npi","valueString":"808401847002312"}]}`},
	} {
		r, err := l.Label([]byte(head + c.in))
		if err != nil || r.Program != "Riverside Recovery Center" || !r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", c.name, r.Program, r.Labels, err)
		}
	}
	for _, c := range []struct{ name, in string }{
		{"another number", `"extension":[{"url":"http://example.org/n","valueInteger":1234567893}]}`},
		{"15 digits of another prefix", `"extension":[{"url":"http://example.org/n","valueString":"808411847002312"}]}`},
		{"MRN with the 15-digit form", `"identifier":[{"system":"http://hospital.example/mrn","value":"808401847002312"}]}`},
	} {
		r, err := l.Label([]byte(head + c.in))
		if err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want no program", c.name, r.Program, r.Labels, err)
		}
	}
}
