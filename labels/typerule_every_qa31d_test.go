package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestTypeRuleIsWrittenOutQA31D: since 43275a4 a rule with types and no
// system and no codes labels every resource of its types. A code rule
// whose system and codes lines were deleted by mistake (an officer
// "emptying" a rule to retire it, a merge that dropped them) became such a
// rule without a word: every Observation, say, labelled GDIS and R and
// withheld from every caller without the consent. A type rule is written
// out (every: true); without it such a rule is refused, naming the fix,
// and every: true beside a system or codes is refused too.
func TestTypeRuleIsWrittenOutQA31D(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	head := "topic: GDIS\nsources: [x]\nrules:\n"
	for body, want := range map[string]string{
		"  - id: gdis-genomics-loinc\n    types: [Observation, DiagnosticReport]\n    labels: [GDIS, R]\n":                                     "every: true",
		"  - id: bad\n    system: http://loinc.org\n    codes: [\"51969-4\"]\n    types: [Observation]\n    every: true\n    labels: [GDIS]\n": "takes types",
		"  - id: bad\n    every: true\n    labels: [GDIS]\n":                                                                                   "takes types",
	} {
		writeRules(t, dir, "gdis.yaml", head+body)
		if _, err := labels.LoadDir(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", body, err, want)
		}
	}
	writeRules(t, dir, "gdis.yaml", head+"  - id: gdis-seq\n    types: [MolecularSequence]\n    every: true\n    labels: [GDIS, R]\n")
	rf, err := labels.ReadRulesDir(dir)
	if err != nil || len(rf.Rules) != 1 {
		t.Fatalf("a type rule written out: %v", err)
	}
	l, err := labels.New(rf.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Label([]byte(`{"resourceType":"MolecularSequence","id":"s1","type":"dna","coordinateSystem":0}`)); err != nil || !r.Labels.Has(labels.ParseLabel("GDIS")) {
		t.Errorf("MolecularSequence: %v %v", r.Labels, err)
	}
	// The shipped rules load, their type rule written out.
	if _, err := labels.LoadRules(labels.EmbeddedRules()); err != nil {
		t.Errorf("shipped rules: %v", err)
	}
}
