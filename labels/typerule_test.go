package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// A type rule (no system, no codes, types) labels every resource of its
// types whatever it holds: a MolecularSequence is genetic information by
// what it is, and carries no code that says so (its type is aa | dna |
// rna). Other types are not labelled by it; what it would exclude, or a
// rule of no system, codes or types, is refused.
func TestTypeRule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRules(t, dir, "gdis.yaml", "topic: GDIS\nsources: [x]\nrules:\n  - id: gdis-seq\n    types: [MolecularSequence]\n    every: true\n    labels: [GDIS, R]\n")
	rf, err := labels.ReadRulesDir(dir)
	if err != nil || len(rf.Warnings) != 0 {
		t.Fatalf("a type rule: %v %v", err, rf.Warnings)
	}
	l, err := labels.New(rf.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	seq := `{"resourceType":"MolecularSequence","id":"s1","type":"dna","coordinateSystem":0,"patient":{"reference":"Patient/p1"}}`
	r, err := l.Label([]byte(seq))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Labels.Has(labels.ParseLabel("GDIS")) || !r.Labels.Has(labels.ParseLabel("R")) {
		t.Errorf("MolecularSequence: labels %v, want GDIS and R", r.Labels)
	}
	found := false
	for _, why := range r.Reasons {
		found = found || why.Rule == "gdis-seq" && why.Matched == "resourceType|MolecularSequence"
	}
	if !found {
		t.Errorf("reasons %+v name no type rule", r.Reasons)
	}
	// Contained, it labels its container as any contained resource's code does.
	obs := `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"contained":[` +
		strings.Replace(seq, `"id":"s1"`, `"id":"c"`, 1) + `],"derivedFrom":[{"reference":"#c"}]}`
	if r, err := l.Label([]byte(obs)); err != nil || !r.Labels.Has(labels.ParseLabel("GDIS")) {
		t.Errorf("an Observation holding a MolecularSequence: %v %v", r.Labels, err)
	}
	// Its type escaped, as a JSON client reads it all the same.
	escaped := strings.Replace(obs, `"resourceType":"MolecularSequence"`, `"resourceType":"Molecular\u0053equence"`, 1)
	if r, err := l.Label([]byte(escaped)); err != nil || !r.Labels.Has(labels.ParseLabel("GDIS")) || escaped == obs {
		t.Errorf("an Observation holding a MolecularSequence whose type is escaped: %v %v", r.Labels, err)
	}
	if r, err := l.Label([]byte(`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"}}`)); err != nil || len(r.Labels) != 0 {
		t.Errorf("an ordinary Observation: %v %v", r.Labels, err)
	}

	for body, want := range map[string]string{
		"  - id: bad\n    types: [MolecularSequence]\n    exclude: [x]\n    labels: [GDIS]\n": "can exclude no code",
		"  - id: bad\n    labels: [GDIS]\n":                                                   "name them",
		"  - id: bad\n    codes: [x]\n    types: [MolecularSequence]\n    labels: [GDIS]\n":   "empty system",
		"  - id: bad\n    types: [MolecularSequense]\n    labels: [GDIS]\n":                   `did you mean "MolecularSequence"`,
	} {
		writeRules(t, dir, "gdis.yaml", "topic: GDIS\nsources: [x]\nrules:\n"+body)
		if _, err := labels.LoadDir(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
