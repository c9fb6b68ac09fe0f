package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestDirectoryVersionAtProgramDepartmentQA43A (QA round 43, helper A, on
// beb1940 and d845ffe): a reference naming a directory entry's version
// (PractitionerRole/r1/_history/2) is read at that version, which stands
// for the program it named then (QA round 41); but the version's own
// references were not followed, so a version at the program's department
// (r1 at Organization/u1, u1 partOf the program p2) stood for nothing once
// r1 moved to an ordinary hospital: the Observation it performed, and a
// Patient naming it, were ordinary, and the version was then noted in the
// cache as passing nothing on. So for a department named at a version
// (partOf Organization/u2/_history/1, u2 then partOf u1). The version's
// parents are read and carried down as the batch's are.
func TestDirectoryVersionAtProgramDepartmentQA43A(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"PractitionerRole/r1|2": `{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"2"},"organization":{"reference":"Organization/u1"}}`,
		"PractitionerRole/r1":   `{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"3"},"organization":{"reference":"Organization/h1"}}`,
		"PractitionerRole/r3":   `{"resourceType":"PractitionerRole","id":"r3","organization":{"reference":"Organization/u3"}}`,
		"Organization/u3":       `{"resourceType":"Organization","id":"u3","partOf":{"reference":"Organization/u2/_history/1"}}`,
		"Organization/u2|1":     `{"resourceType":"Organization","id":"u2","meta":{"versionId":"1"},"partOf":{"reference":"Organization/u1"}}`,
		"Organization/u2":       `{"resourceType":"Organization","id":"u2","meta":{"versionId":"2"},"partOf":{"reference":"Organization/h1"}}`,
		"PractitionerRole/r4|1": `{"resourceType":"PractitionerRole","id":"r4","meta":{"versionId":"1"},"organization":{"reference":"Organization/h2"}}`,
		"PractitionerRole/r4":   `{"resourceType":"PractitionerRole","id":"r4","meta":{"versionId":"2"},"organization":{"reference":"Organization/h1"}}`,
		"Organization/u1":       `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"Organization/h1":       `{"resourceType":"Organization","id":"h1"}`,
		"Organization/h2":       `{"resourceType":"Organization","id":"h2","partOf":{"reference":"Organization/h1"}}`,
		"Organization/p2":       `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`,
	}
	fetch := func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			key := t.Key()
			if t.Version != "" {
				key += "|" + t.Version
			}
			if b, ok := entries[key]; ok {
				out = append(out, []byte(b))
			}
		}
		return out, nil
	}
	l := programDirectoryLabeller(t)
	for _, round := range []string{"fetched", "again"} {
		for _, ref := range []string{"PractitionerRole/r1/_history/2", "PractitionerRole/r3"} {
			rs, err := l.LabelAllResolving([][]byte{performedBy(ref)}, false, fetch)
			if err != nil || first(rs).Program != "Riverside Recovery" || !first(rs).Labels.Has(labels.Part2Policy) {
				t.Errorf("%s, performer %s: program %q, labels %v, %v; want the program's record", round, ref, first(rs).Program, first(rs).Labels, err)
			}
		}
		rs, err := l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"PractitionerRole/r1/_history/2"}]}`)}, false, fetch)
		if err != nil || first(rs).DirectoryProgram("PractitionerRole/r1/_history/2") != "Riverside Recovery" {
			t.Errorf("%s, Patient: %v; want its practitioner the program's", round, err)
		}
		// A version at an ordinary hospital's unit stays ordinary.
		rs, err = l.LabelAllResolving([][]byte{performedBy("PractitionerRole/r4/_history/1")}, false, fetch)
		if err != nil || first(rs).Program != "" || len(first(rs).Labels) != 0 {
			t.Errorf("%s, ordinary version: program %q, labels %v, %v; want ordinary", round, first(rs).Program, first(rs).Labels, err)
		}
	}
}
