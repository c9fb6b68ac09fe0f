package labels

import (
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
)

// TestLabelsSizeIsWhatIsWritten (QA round 23, area A): the buffers the
// labeller writes a resource's labels into are made to their size
// (labelsSize), so a 1,000-entry Bundle's items do not each grow one five
// times. Without escapes the size is exact; the edits that insert labels
// allocate their data and the edit slice only.
func TestLabelsSizeIsWhatIsWritten(t *testing.T) {
	ls := NewSet(Label{System: SystemConfidentiality, Code: "R"}, Label{System: SystemActCode, Code: "SUD"},
		Label{System: SystemActCode, Code: "42CFRPart2"}, Label{System: SystemActCode, Code: "NORDSCLCD"})
	basis := map[Label]string{{System: SystemActCode, Code: "SUD"}: "42CFRPart2"}
	for _, b := range []map[Label]string{nil, basis} {
		for n := range len(ls) + 1 {
			if got, want := len(appendLabels(nil, ls[:n], b)), labelsSize(ls[:n], b); got != want {
				t.Errorf("%d labels, basis %v: %d bytes written, labelsSize %d", n, b, got, want)
			}
		}
		for _, lb := range ls {
			if got, want := len(appendLabel(nil, lb, b[lb])), labelSize(lb, b[lb]); got != want {
				t.Errorf("%v: %d bytes written, labelSize %d", lb, got, want)
			}
		}
	}
	var edits []fjson.Edit
	for name, f := range map[string]func(){
		"insertSecurity": func() { edits = insertSecurity(objectLayout{open: 10, lastEnd: 40}, ls, basis) },
		"insertMeta":     func() { edits = insertMeta(objectLayout{open: 0, after: 30}, ls, basis) },
		"appendMissing":  func() { edits = appendMissing([]entry{{start: 20, end: 30}}, []bool{false}, 19, ls, basis) },
	} {
		if n := testing.AllocsPerRun(50, f); n > 2 {
			t.Errorf("%s: %v allocations, want 2 (the data, the edit)", name, n)
		}
		if len(edits) != 1 || len(edits[0].Data) > labelsSize(ls, basis)+len(`,"meta":{"security":},`) {
			t.Errorf("%s: %v", name, edits)
		}
	}
}
