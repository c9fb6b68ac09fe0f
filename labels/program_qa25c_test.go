package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramIdentifierSpellingsQA25C: a record naming its Part 2 program
// by an identifier whose system is spelt as servers accept it (the NPI by
// its bare OID, https, a trailing slash, another case of scheme and host;
// a local system likewise, an OID with or without urn:oid:) is the
// program's record. Matched only as configured, it lost 42CFRPart2 and
// NORDSCLCD and was disclosed as any SUD record, or as ordinary data.
func TestProgramIdentifierSpellingsQA25C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "clinic", Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
		{Name: "local", Identifiers: []string{"https://Riverside.example/programs|P2", "urn:oid:1.2.3.4|77"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, system, value, want string }{
		{"NPI bare OID", "2.16.840.1.113883.4.6", "1847002312", "clinic"},
		{"NPI OID upper-case urn", "URN:OID:2.16.840.1.113883.4.6", "1847002312", "clinic"},
		{"NPI https", "https://hl7.org/fhir/sid/us-npi", "1847002312", "clinic"},
		{"NPI trailing slash", "http://hl7.org/fhir/sid/us-npi/", "1847002312", "clinic"},
		{"NPI host case", "HTTP://HL7.ORG/fhir/sid/us-npi", "1847002312", "clinic"},
		{"local http, host case", "http://riverside.example/programs", "P2", "local"},
		{"local OID bare", "1.2.3.4", "77", "local"},
		{"local OID with space", " urn:oid:1.2.3.4 ", "77", "local"},
	} {
		in := `{"resourceType":"Procedure","performer":[{"actor":{"identifier":{"system":"` + c.system + `","value":"` + c.value + `"}}}]}`
		r, err := l.Label([]byte(in))
		if err != nil || r.Program != c.want || !r.Labels.Has(labels.Part2Policy) || !r.Labels.Has(labels.NoRedisclosure) {
			t.Errorf("%s: program %q, labels %v, %v; want %q's record", c.name, r.Program, r.Labels, err, c.want)
		}
		if got := l.ProgramOfIdentifier(c.system, c.value); got != c.want {
			t.Errorf("%s: ProgramOfIdentifier = %q", c.name, got)
		}
	}
	// The path of a local system stays as written; another value is another.
	for _, c := range []struct{ system, value string }{
		{"http://riverside.example/Programs", "P2"},
		{"http://riverside.example/programs", "p2"},
		{"1.2.3.45", "77"},
	} {
		if got := l.ProgramOfIdentifier(c.system, c.value); got != "" {
			t.Errorf("%s|%s names %q", c.system, c.value, got)
		}
	}
}
