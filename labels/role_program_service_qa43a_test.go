package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestRoleAtProgramKnownByItsServiceQA43A (QA round 43, helper A, on
// a1e0ecd): a program may be configured by its HealthcareService
// (References: HealthcareService/z, as labels/README shows). A
// PractitionerRole whose healthcareService is HealthcareService/z left the
// Observation it performed ordinary, and a Patient naming the role kept
// it: a1e0ecd read a role's healthcareService as a parent link, whose
// target z, read, names no program (it is one), while the check of a
// parent naming the program itself read partOf and providedBy alone. The
// role stands for the program now; a role at another service stays
// ordinary.
func TestRoleAtProgramKnownByItsServiceQA43A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{CacheSize: 100, Programs: []labels.Program{
		{Name: "Riverside Recovery", References: []string{"HealthcareService/z"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{
		"HealthcareService/z": `{"resourceType":"HealthcareService","id":"z"}`,
		"HealthcareService/g": `{"resourceType":"HealthcareService","id":"g"}`,
		"PractitionerRole/r":  `{"resourceType":"PractitionerRole","id":"r","healthcareService":[{"reference":"HealthcareService/z"}]}`,
		"PractitionerRole/q":  `{"resourceType":"PractitionerRole","id":"q","healthcareService":[{"reference":"HealthcareService/g"}]}`,
	}
	f := newChainFetch(entries)
	for _, round := range []string{"fetched", "again"} {
		rs, err := l.LabelAllResolving([][]byte{performedBy("PractitionerRole/r")}, false, f.fetch)
		if err != nil || first(rs).Program != "Riverside Recovery" || !first(rs).Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", round, first(rs).Program, first(rs).Labels, err)
		}
		rs, err = l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"PractitionerRole/r"}]}`)}, false, f.fetch)
		if err != nil || first(rs).DirectoryProgram("PractitionerRole/r") != "Riverside Recovery" {
			t.Errorf("%s, Patient: %v; want its practitioner the program's", round, err)
		}
		rs, err = l.LabelAllResolving([][]byte{performedBy("PractitionerRole/q")}, false, f.fetch)
		if err != nil || first(rs).Program != "" || len(first(rs).Labels) != 0 {
			t.Errorf("%s, another service's role: program %q, labels %v, %v; want ordinary", round, first(rs).Program, first(rs).Labels, err)
		}
	}
}
