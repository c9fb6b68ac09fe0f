package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestRoleOfProgramServiceQA42G (QA round 42, helper G, on beb1940): a
// PractitionerRole whose healthcareService is the program's
// HealthcareService (providedBy Organization/p2) is the program's role,
// as one whose organization or location is the program's; an Observation
// it performed stayed ordinary (the role's healthcareService was no parent
// link). A role at an ordinary hospital's service stays ordinary.
func TestRoleOfProgramServiceQA42G(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{CacheSize: 100, Programs: []labels.Program{
		{Name: "Zeta House", References: []string{"Organization/p2"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{
		"HealthcareService/hs": `{"resourceType":"HealthcareService","id":"hs","providedBy":{"reference":"Organization/p2"}}`,
		"PractitionerRole/rh":  `{"resourceType":"PractitionerRole","id":"rh","practitioner":{"reference":"Practitioner/d1"},"healthcareService":[{"reference":"HealthcareService/hs"}]}`,
		"HealthcareService/h9": `{"resourceType":"HealthcareService","id":"h9","providedBy":{"reference":"Organization/general"}}`,
		"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","practitioner":{"reference":"Practitioner/d1"},"healthcareService":[{"reference":"HealthcareService/h9"}]}`,
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
	for ref, part2 := range map[string]bool{"PractitionerRole/rh": true, "PractitionerRole/r9": false} {
		obs := `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"` + ref + `"}]}`
		rs, err := l.LabelAllResolving([][]byte{[]byte(obs)}, false, fetch)
		if err != nil || rs[0].Labels.Has(labels.Part2Policy) != part2 {
			t.Errorf("performer %s: labels %v program %q %v, want Part 2 %v", ref, rs[0].Labels, rs[0].Program, err, part2)
		}
	}
}
