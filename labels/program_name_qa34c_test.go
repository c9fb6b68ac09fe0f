package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramNamedByDisplayQA34C: a record naming its Part 2 program by
// the program's name alone (a performer's or serviceProvider's display, a
// contained Organization's name, as C-CDA conversions and hand-entered
// records write it) is the program's record. Matched by reference and
// identifier only, an Encounter whose serviceProvider was {"display":
// "Riverside Recovery Center"} went to a payer as ordinary data, telling
// it the patient was treated for SUD. Another name, a name that only
// contains the program's, a short program name, and directory data stay
// as they were.
func TestProgramNamedByDisplayQA34C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "Riverside Recovery Center", References: []string{"Organization/part2-clinic"}},
		{Name: "ABC", References: []string{"Organization/abc"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	const head = `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/1"},`
	for name, in := range map[string]string{
		"serviceProvider display":     `"serviceProvider":{"display":"Riverside Recovery Center"}}`,
		"participant display, case":   `"participant":[{"individual":{"display":"  riverside   RECOVERY center "}}]}`,
		"location display":            `"location":[{"location":{"display":"Riverside Recovery Center"}}]}`,
		"extension valueReference":    `"extension":[{"url":"http://example.org/x","valueReference":{"display":"Riverside Recovery Center"}}]}`,
		"contained Organization name": `"contained":[{"resourceType":"Organization","id":"o","name":"Riverside Recovery Center"}],"serviceProvider":{"reference":"#o"}}`,
		"escaped display":             `"serviceProvider":{"display":"Riverside Recovery Cent\u0065r"}}`,
	} {
		r, err := l.Label([]byte(head + in))
		if err != nil || r.Program != "Riverside Recovery Center" || !r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", name, r.Program, r.Labels, err)
		}
	}
	for name, in := range map[string]string{
		"another name":          `"serviceProvider":{"display":"Riverside General Hospital"}}`,
		"containing the name":   `"serviceProvider":{"display":"Referred by Riverside Recovery Center staff"}}`,
		"a short program name":  `"serviceProvider":{"display":"ABC"}}`,
		"the name as free text": `"reasonCode":[{"text":"Riverside Recovery Center"}]}`,
	} {
		r, err := l.Label([]byte(head + in))
		if err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want no program", name, r.Program, r.Labels, err)
		}
	}
	r, err := l.Label([]byte(`{"resourceType":"Organization","id":"x","name":"Riverside Recovery Center","partOf":{"display":"Riverside Recovery Center"}}`))
	if err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
		t.Errorf("Organization: program %q, labels %v, %v", r.Program, r.Labels, err)
	}
}
