package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestSUDComplicatingPregnancyQA36A: ICD-10-CM files alcohol and drug use
// in pregnancy, childbirth and the puerperium under O99.31 and O99.32, not
// under F10-F19 (an obstetric record codes the O99.3x code first), as it
// files HIV and syphilis in pregnancy under O98.7 and O98.1, which hiv.yaml
// and std.yaml label. The ICD-9-CM counterpart, 648.3 drug dependence
// complicating pregnancy, was SUD; an O99.320 Condition was ordinary and
// went to whoever the patient's consent denies SUD information (QA round
// 36, area A). Its neighbours (O99.35 nervous system, O99.33 tobacco,
// O99.28 endocrine) stay as they were.
func TestSUDComplicatingPregnancyQA36A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	sud := labels.Label{System: labels.SystemActCode, Code: "SUD"}
	ethud := labels.Label{System: labels.SystemActCode, Code: "ETHUD"}
	for _, c := range []struct {
		system, code string
		sud, ethud   bool
	}{
		{qa32bICD10CM, "O99.320", true, false}, // drug use complicating pregnancy, unspecified trimester
		{qa32bICD10CM, "O99.323", true, false}, // ... third trimester
		{qa32bICD10CM, "O99.325", true, false}, // ... the puerperium
		{qa32bICD10CM, "O99324", true, false},  // ... childbirth, without its dot
		{qa32bICD10CM, "o99.32", true, false},  // the category, in lower case
		{qa32bICD10CM, "O99.310", true, true},  // alcohol use complicating pregnancy
		{qa32bICD10CM, "O99.314", true, true},  // ... childbirth
		{"urn:oid:2.16.840.1.113883.6.90", "O99.315", true, true},
		{qa32bICD9CM, "648.30", true, false},    // the counterpart, labelled before
		{qa32bICD10CM, "O99.330", false, false}, // tobacco use disorder complicating pregnancy
		{qa32bICD10CM, "O99.350", false, false}, // nervous system diseases complicating pregnancy (O99.34x is MH)
		{qa32bICD10CM, "O99.280", false, false}, // endocrine diseases complicating pregnancy
		{qa32bICD10CM, "O99.3", false, false},   // the whole block (mental and nervous)
	} {
		r, err := l.Label([]byte(qa32bCondition(c.system, c.code)))
		if err != nil {
			t.Fatalf("%s: %v", c.code, err)
		}
		if r.Labels.Has(sud) != c.sud || r.Labels.Has(ethud) != c.ethud || r.Labels.Has(labels.Restricted) != c.sud {
			t.Errorf("%s|%s: labels %v; want SUD %v, ETHUD %v", c.system, c.code, r.Labels, c.sud, c.ethud)
		}
	}
}
