package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramRoleVersionQA41A (QA round 41, helper A, on bcfa337): an
// Observation performed by PractitionerRole/r1 at version 2, when r1 was
// the Part 2 program's (organization Organization/p2), is the program's
// record after r1 moved to an ordinary hospital (version 3): the reference
// names the role as it was, and Resolve reads that version (as it does a
// Condition's older, sensitive version), but the version's program was
// dropped and the record stayed ordinary.
func TestProgramRoleVersionQA41A(t *testing.T) {
	t.Parallel()
	const (
		v2 = `{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"2"},"practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/p2"}}`
		v3 = `{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"3"},"practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/h1"}}`
	)
	fetch := func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			switch {
			case t.Key() == "PractitionerRole/r1" && t.Version == "2":
				out = append(out, []byte(v2))
			case t.Key() == "PractitionerRole/r1" && t.Version == "":
				out = append(out, []byte(v3))
			}
		}
		return out, nil
	}
	obs := `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r1/_history/2"}]}`
	l := programDirectoryLabeller(t)
	for _, round := range []string{"fetched", "again"} {
		rs, err := l.LabelAllResolving([][]byte{[]byte(obs)}, false, fetch)
		if err != nil || rs[0].Program != "Riverside Recovery" || !rs[0].Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", round, rs[0].Program, rs[0].Labels, err)
		}
	}
}
