package labels

import "testing"

// TestRevision: the rules revision is the same for the same rules and
// programs, wherever they come from, and changes with any rule field and
// with the programs; SetRules moves it and keeps the programs' part.
func TestRevision(t *testing.T) {
	rules, err := LoadRules(EmbeddedRules())
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewLabeller(Options{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLabeller(Options{Rules: append([]Rule(nil), rules...)})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := NewLabeller(Options{Rules: rules, Programs: []Program{}}); err != nil || e.Revision() != a.Revision() {
		t.Fatalf("no programs as an empty list: %v, want the revision without programs", err)
	}
	if a.Revision() == "" || a.Revision() != b.Revision() {
		t.Fatalf("same rules: %q and %q, want one non-empty revision", a.Revision(), b.Revision())
	}
	prog := Program{Name: "Synth SUD program", References: []string{"Organization/synth-sud"}}
	p, err := NewLabeller(Options{Rules: rules, Programs: []Program{prog}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Revision() == a.Revision() {
		t.Errorf("a Part 2 program did not change the revision")
	}
	changed := append([]Rule(nil), rules...)
	r0 := changed[0]
	r0.Codes = append(append([]string(nil), r0.Codes...), "X99.9")
	changed[0] = r0
	if err := p.SetRules(changed); err != nil {
		t.Fatal(err)
	}
	withProg := p.Revision()
	if err := a.SetRules(changed); err != nil {
		t.Fatal(err)
	}
	if a.Revision() == b.Revision() {
		t.Errorf("a code added to a rule did not change the revision")
	}
	if withProg == a.Revision() {
		t.Errorf("SetRules dropped the programs from the revision")
	}
	if err := a.SetRules(rules); err != nil {
		t.Fatal(err)
	}
	if a.Revision() != b.Revision() {
		t.Errorf("back to the first rules: %q, want %q", a.Revision(), b.Revision())
	}
}
