package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestSUDCounsellingCodeLabelsAgreeQA39F: the alcohol rule reads ICD-10-CM
// Z71.41 as a prefix (ETHUD) while the counselling rule read it as an exact
// code (SUD, R): a coding Z71.410 or Z71.41x (a local extension, a code
// padded by a coder's tool) was labelled ETHUD alone, an alcohol use
// disorder label on a resource left ordinary (N), which goes to org-b with
// its label. Both read a prefix now, as O99.31 is read by both.
func TestSUDCounsellingCodeLabelsAgreeQA39F(t *testing.T) {
	t.Parallel()
	ethud := labels.Label{System: labels.SystemActCode, Code: "ETHUD"}
	l := labels.Default()
	for _, code := range []string{"Z71.410", "Z71.41X", "Z7141X", "Z71.510"} {
		r, err := l.Label([]byte(qa32bCondition(qa32bICD10CM, code)))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(labels.SUD) || !r.Labels.Has(labels.Restricted) {
			t.Errorf("%s: labels %v, want SUD and R", code, r.Labels)
		}
		if r.Labels.Has(ethud) && !r.Labels.Has(labels.Restricted) {
			t.Errorf("%s: ETHUD without R: %v", code, r.Labels)
		}
	}
	for _, code := range []string{"Z71.42", "Z71.52", "Z71.4", "Z71.5"} {
		if r, _ := l.Label([]byte(qa32bCondition(qa32bICD10CM, code))); len(r.Labels) != 0 {
			t.Errorf("%s: labels %v, want none", code, r.Labels)
		}
	}
}
