package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramEntryByItsOwnIdentifierQA42A (QA round 42, helper A, on
// bcfa337 and dea38b1): the Part 2 program's Organization as the server
// stores it, Organization/x, carries the program's NPI, which the site
// configured (deploy/ds4p.yaml names the program by reference and NPI; a
// site may name it by NPI alone). labels/README says an entry naming "the
// program's NPI" stands for it, but only a contained copy's identifier
// was read: Organization/x stood for nothing, and an Observation it
// performed stayed ordinary. An entry's own top-level identifier now
// counts; another NPI, or the number under another system, does not.
func TestProgramEntryByItsOwnIdentifierQA42A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{CacheSize: 100, Programs: []labels.Program{
		{Name: "Riverside Recovery", Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{
		"Organization/x":     `{"resourceType":"Organization","id":"x","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}]}`,
		"Organization/one":   `{"resourceType":"Organization","id":"one","identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}`,
		"Organization/other": `{"resourceType":"Organization","id":"other","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`,
		"Location/l1":        `{"resourceType":"Location","id":"l1","identifier":[{"system":"urn:x","value":"1847002312"}]}`,
	}
	fetch := func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, tg := range ts {
			if e, ok := entries[tg.Key()]; ok {
				out = append(out, []byte(e))
			}
		}
		return out, nil
	}
	for ref, want := range map[string]string{"Organization/x": "Riverside Recovery", "Organization/one": "Riverside Recovery",
		"Organization/other": "", "Location/l1": ""} {
		obs := `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"` + ref + `"}]}`
		rs, err := l.LabelAllResolving([][]byte{[]byte(obs)}, false, fetch)
		if err != nil || rs[0].Program != want || rs[0].Labels.Has(labels.Part2Policy) != (want != "") {
			t.Errorf("performer %s: program %q, labels %v, %v; want program %q", ref, rs[0].Program, rs[0].Labels, err, want)
		}
	}
}
