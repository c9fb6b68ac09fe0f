package labels

import (
	"slices"
	"testing"
)

func TestProgramWords(t *testing.T) {
	l, err := NewLabeller(Options{Rules: DefaultRules(), Programs: []Program{
		{Name: "Riverside Recovery", References: []string{"Organization/rr-1"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
		{Name: "x", Sources: []string{"http://src.example/fhir"}},
		{Name: "short ids", References: []string{"Organization/123"}, Identifiers: []string{"urn:x|4567"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1847002312", "organization/123", "organization/rr-1", "riverside recovery", "short ids"}
	if got := l.ProgramWords(); !slices.Equal(got, want) {
		t.Errorf("ProgramWords() = %q, want %q", got, want)
	}
}
