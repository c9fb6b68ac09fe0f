package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAccountOfProgramCoverageQA36F: QA round 36, area A made what is
// billed to a substance use program's Coverage (insurance) inherit its
// labels; a patient's Account whose coverage is that Coverage
// (Account.coverage[].coverage), or an EnrollmentRequest enrolling the
// patient in it (coverage), named it in a member that passed nothing on,
// and went to a caller denied SUD information as ordinary, telling what
// the Coverage was withheld for. An account with an ordinary Coverage stays
// ordinary.
func TestAccountOfProgramCoverageQA36F(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	coverage := func(id, typ string) string {
		return `{"resourceType":"Coverage","id":"` + id + `","status":"active","beneficiary":{"reference":"Patient/p1"},"payor":[{"reference":"Organization/state"}],` +
			`"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + typ + `"}]}}`
	}
	records := map[string]func(cov string) string{
		"account": func(cov string) string {
			return `{"resourceType":"Account","id":"a1","status":"active","subject":[{"reference":"Patient/p1"}],"coverage":[{"coverage":{"reference":"Coverage/` + cov + `"},"priority":1}]}`
		},
		"enrollment request": func(cov string) string {
			return `{"resourceType":"EnrollmentRequest","id":"e1","status":"active","candidate":{"reference":"Patient/p1"},"coverage":{"reference":"Coverage/` + cov + `"}}`
		},
	}
	sud := labels.Label{System: labels.SystemActCode, Code: "SUD"}
	for name, rec := range records {
		rs, err := l.LabelAll([][]byte{[]byte(rec("sub")), []byte(coverage("sub", "SUBPRG")), []byte(coverage("hmo", "HMO"))})
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Labels.Has(sud) || !rs[0].Labels.Has(labels.Restricted) {
			t.Errorf("%s with a substance use program's coverage: labels %v; want SUD, R", name, rs[0].Labels)
		}
		rs, err = l.LabelAll([][]byte{[]byte(rec("hmo")), []byte(coverage("sub", "SUBPRG")), []byte(coverage("hmo", "HMO"))})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs[0].Labels) != 0 {
			t.Errorf("%s with an HMO: labels %v; want none", name, rs[0].Labels)
		}
	}
}
