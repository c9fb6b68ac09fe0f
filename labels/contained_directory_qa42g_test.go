package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestContainedRoleAtProgramDepartmentQA42G (QA round 42, helper G, on
// beb1940): an Observation performed by a contained PractitionerRole (#r)
// whose organization is Organization/u1, a department partOf the Part 2
// program p2 (or u2, a unit partOf u1), stayed ordinary: only a contained
// entry naming the program itself labelled its container, and the
// any-depth walk read parents of stored entries alone. Likewise a stored
// Organization whose partOf is a contained department (#d) partOf u1.
// Such a record is the program's; a contained role of an ordinary
// hospital's nested unit stays ordinary.
func TestContainedRoleAtProgramDepartmentQA42G(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{CacheSize: 100, Programs: []labels.Program{
		{Name: "Zeta House", References: []string{"Organization/p2"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{
		"Organization/u1":      `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"Organization/u2":      `{"resourceType":"Organization","id":"u2","partOf":{"reference":"Organization/u1"}}`,
		"Organization/u3":      `{"resourceType":"Organization","id":"u3","contained":[{"resourceType":"Organization","id":"d","partOf":{"reference":"Organization/u1"}}],"partOf":{"reference":"#d"}}`,
		"PractitionerRole/r3":  `{"resourceType":"PractitionerRole","id":"r3","organization":{"reference":"Organization/u3"}}`,
		"Organization/h2":      `{"resourceType":"Organization","id":"h2","partOf":{"reference":"Organization/h1"}}`,
		"Organization/h1":      `{"resourceType":"Organization","id":"h1","name":"General"}`,
		"Location/l1":          `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/u1"}}`,
		"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","organization":{"reference":"Organization/h2"}}`,
		"Organization/general": `{"resourceType":"Organization","id":"general"}`,
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
	contained := func(entry string) string {
		return `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"code":{"text":"bp"},` +
			`"contained":[` + entry + `],"performer":[{"reference":"#r"}]}`
	}
	for _, tc := range []struct {
		name, obs string
		part2     bool
	}{
		{"contained role at the department", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/u1"}}`), true},
		{"contained role at a unit two hops down", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/u2"}}`), true},
		{"contained role at the program's site", contained(`{"resourceType":"PractitionerRole","id":"r","location":[{"reference":"Location/l1"}]}`), true},
		{"contained unit partOf the department", contained(`{"resourceType":"Organization","id":"r","partOf":{"reference":"Organization/u1"}}`), true},
		{"role at an entry whose parent is contained", `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r3"}]}`, true},
		{"contained role at an ordinary hospital's unit", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/h2"}}`), false},
		{"contained role at an ordinary hospital", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/general"}}`), false},
		{"role at an ordinary hospital's unit", `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r9"}]}`, false},
	} {
		rs, err := l.LabelAllResolving([][]byte{[]byte(tc.obs)}, false, fetch)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := rs[0].Labels.Has(labels.Part2Policy); got != tc.part2 || (rs[0].Program == "Zeta House") != tc.part2 {
			t.Errorf("%s: labels %v program %q, want Part 2 %v", tc.name, rs[0].Labels, rs[0].Program, tc.part2)
		}
	}
}
