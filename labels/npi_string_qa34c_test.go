package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramNPIWithoutSystemQA34C: a record naming its Part 2 program by
// the program's NPI written without the NPI's system (an extension's
// valueString, an identifier with no system or only a type of NPI, a
// contained Organization's such identifier, an NPI as a JSON number, a
// display holding the number alone) is the program's record. Matched
// with its system only, such a record went to a payer as ordinary data,
// telling it the patient was treated by the SUD program.
func TestProgramNPIWithoutSystemQA34C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "Riverside Recovery Center", References: []string{"Organization/part2-clinic"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	const head = `{"resourceType":"Procedure","subject":{"reference":"Patient/1"},`
	for _, c := range []struct{ name, in string }{
		{"extension valueString", `"extension":[{"url":"http://example.org/ordering-facility-npi","valueString":"1847002312"}]}`},
		{"extension valueString padded", `"extension":[{"url":"http://example.org/npi","valueString":" 1847002312 "}]}`},
		{"extension valueString escaped", `"extension":[{"url":"http://example.org/npi","valueString":"\u00318470023\u00312"}]}`},
		{"extension valueCode", `"extension":[{"url":"http://example.org/npi","valueCode":"1847002312"}]}`},
		{"identifier without system", `"performer":[{"actor":{"identifier":{"value":"1847002312"}}}]}`},
		{"identifier typed NPI", `"performer":[{"actor":{"identifier":{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NPI"}]},"value":"1847002312"}}}]}`},
		{"identifier number without system", `"performer":[{"actor":{"identifier":{"value":1847002312}}}]}`},
		{"display the NPI", `"performer":[{"actor":{"display":"1847002312"}}]}`},
		{"contained Organization", `"contained":[{"resourceType":"Organization","id":"o","identifier":[{"value":"1847002312"}]}],"performer":[{"actor":{"reference":"#o"}}]}`},
		{"string in an array", `"instantiatesUri":["1847002312"]}`},
	} {
		r, err := l.Label([]byte(head + c.in))
		if err != nil || r.Program != "Riverside Recovery Center" || !r.Labels.Has(labels.Part2Policy) || !r.Labels.Has(labels.NoRedisclosure) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", c.name, r.Program, r.Labels, err)
		}
	}
	for _, c := range []struct{ name, in string }{
		// Another system's number written with the same digits is not the NPI.
		{"MRN with the digits", `"identifier":[{"system":"http://hospital.example/mrn","value":"1847002312"}]}`},
		{"another NPI", `"extension":[{"url":"http://example.org/npi","valueString":"1234567893"}]}`},
		{"the NPI within text", `"note":[{"text":"seen at NPI 1847002312"}]}`},
	} {
		r, err := l.Label([]byte(head + c.in))
		if err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want no program", c.name, r.Program, r.Labels, err)
		}
	}
	// Directory data stays directory data.
	r, err := l.Label([]byte(`{"resourceType":"Organization","id":"x","identifier":[{"value":"1847002312"}]}`))
	if err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
		t.Errorf("Organization: program %q, labels %v, %v", r.Program, r.Labels, err)
	}
}
