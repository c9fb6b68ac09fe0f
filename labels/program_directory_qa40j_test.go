package labels_test

import (
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramDirectoryOneLevelDownQA40J (QA round 40, area J, on I-1): a
// who one level under a top-level member (Specimen collection.collector,
// MedicationRequest dispenseRequest.performer), read for the program's
// own reference since QA round 30, is a role or department of the program
// as at the top: the record is the program's. The hospital's stays
// ordinary.
func TestProgramDirectoryOneLevelDownQA40J(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ program, ordinary string }{
		"Specimen collector role": {
			`{"resourceType":"Specimen","id":"s1","subject":{"reference":"Patient/p1"},"collection":{"collector":{"reference":"PractitionerRole/r1"}}}`,
			`{"resourceType":"Specimen","id":"s9","subject":{"reference":"Patient/p1"},"collection":{"collector":{"reference":"PractitionerRole/r9"}}}`},
		"MedicationRequest dispenser department": {
			`{"resourceType":"MedicationRequest","id":"m1","subject":{"reference":"Patient/p1"},"dispenseRequest":{"performer":{"reference":"Organization/u1"}}}`,
			`{"resourceType":"MedicationRequest","id":"m9","subject":{"reference":"Patient/p1"},"dispenseRequest":{"performer":{"reference":"Organization/u9"}}}`},
	} {
		l := programDirectoryLabeller(t)
		var reads atomic.Int32
		rs, err := l.LabelAllResolving([][]byte{[]byte(c.program)}, false, directoryFetch(&reads))
		if err != nil || rs[0].Program != "Riverside Recovery" || !rs[0].Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", name, rs[0].Program, rs[0].Labels, err)
		}
		rs, err = l.LabelAllResolving([][]byte{[]byte(c.ordinary)}, false, directoryFetch(&reads))
		if err != nil || rs[0].Program != "" || rs[0].Labels.Has(labels.Part2Policy) {
			t.Errorf("%s, ordinary: program %q, labels %v, %v; want no program", name, rs[0].Program, rs[0].Labels, err)
		}
	}
}
