package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestMentalDisordersInPregnancy: an obstetric record codes a mental
// disorder of pregnancy or the puerperium first (ICD-10-CM O99.34x, ICD-9-CM
// 648.4x); it is MH and restricted as the F code would be. Its neighbours
// (alcohol and drug use in pregnancy are SUD, tobacco and other diseases
// are not MH) keep their own labels.
func TestMentalDisordersInPregnancy(t *testing.T) {
	t.Parallel()
	const icd9 = "http://hl7.org/fhir/sid/icd-9-cm"
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	cases := []struct {
		name, system, code string
		mh, sud            bool
	}{
		{"mental disorder, pregnancy, unspecified trimester", qa32bICD10CM, "O99.340", true, false},
		{"mental disorder, puerperium (postpartum depression)", qa32bICD10CM, "O99.345", true, false},
		{"mental disorder in pregnancy, no dot", qa32bICD10CM, "O99345", true, false},
		{"mental disorder complicating pregnancy (ICD-9-CM)", icd9, "648.43", true, false},
		{"mental disorder complicating pregnancy, category (ICD-9-CM)", icd9, "648.4", true, false},
		{"alcohol use complicating pregnancy", qa32bICD10CM, "O99.310", false, true},
		{"tobacco use complicating pregnancy", qa32bICD10CM, "O99.330", false, false},
		{"diseases of the nervous system complicating pregnancy", qa32bICD10CM, "O99.350", false, false},
		{"drug dependence complicating pregnancy (ICD-9-CM)", icd9, "648.33", false, true},
		{"anemia complicating pregnancy (ICD-9-CM)", icd9, "648.23", false, false},
	}
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(qa32bCondition(c.system, c.code)))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := r.Labels.Has(mh); got != c.mh {
			t.Errorf("%s (%s): MH = %v, want %v (labels %v)", c.name, c.code, got, c.mh, r.Labels)
		}
		if got := r.Labels.Has(labels.SUD); got != c.sud {
			t.Errorf("%s (%s): SUD = %v, want %v (labels %v)", c.name, c.code, got, c.sud, r.Labels)
		}
		if restricted := c.mh || c.sud; r.Labels.Has(labels.Restricted) != restricted {
			t.Errorf("%s (%s): R = %v, want %v (labels %v)", c.name, c.code, !restricted, restricted, r.Labels)
		}
	}
}
