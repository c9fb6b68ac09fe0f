package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 33, area B: an order of mifepristone 200 MG Oral Tablet (RxNorm
// 311704, the clinical drug EHRs order) or a pharmacy claim by its NDC was
// ordinary: the rules named SHIFT's 330381, the drug component. Both are
// SEX now; a statin is not.
func TestMifepristoneQA33B(t *testing.T) {
	t.Parallel()
	sex := labels.Label{System: labels.SystemActCode, Code: "SEX"}
	l := labels.Default()
	for _, c := range [][3]string{
		{qa32eRxNorm, "311704", "SEX"},
		{qa33bNDC, "84670-014-01", "SEX"},
		{qa33bNDC, "84670001401", "SEX"},
		{qa32eRxNorm, "904467", ""},
	} {
		in := `{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + c[0] + `","code":"` + c[1] + `"}]}}`
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if want := c[2] == "SEX"; r.Labels.Has(sex) != want || r.Labels.Has(labels.Restricted) != want {
			t.Errorf("%s %s: labels %v, want SEX and R %v", c[0], c[1], r.Labels, want)
		}
	}
}
