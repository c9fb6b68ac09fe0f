package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestBilledToProgramCoverageQA36A: a Coverage of a substance use program
// (v3-ActCode SUBPRG) is SUD since QA round 31 (org-b must not read that
// the patient's care is paid by one), but the claim, explanation of
// benefit, eligibility request and order billed to it named it in
// insurance, a member that passed nothing on: an office visit (99213)
// billed to the substance use program went to org-b as ordinary data,
// and with its insurance reference (often with a display naming the
// program) told what the Coverage was withheld for (QA round 36, area A).
// Billed to an ordinary Coverage, they stay ordinary.
func TestBilledToProgramCoverageQA36A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	coverage := func(id, typ string) string {
		return `{"resourceType":"Coverage","id":"` + id + `","status":"active","beneficiary":{"reference":"Patient/p1"},"payor":[{"reference":"Organization/state"}],` +
			`"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + typ + `"}]}}`
	}
	const visit = `"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]}}]`
	records := map[string]func(cov string) string{
		"claim": func(cov string) string {
			return `{"resourceType":"Claim","id":"x","status":"active","patient":{"reference":"Patient/p1"},"insurance":[{"sequence":1,"focal":true,"coverage":{"reference":"Coverage/` + cov + `"}}],` + visit + `}`
		},
		"explanation of benefit": func(cov string) string {
			return `{"resourceType":"ExplanationOfBenefit","id":"x","status":"active","patient":{"reference":"Patient/p1"},"insurance":[{"focal":true,"coverage":{"reference":"Coverage/` + cov + `"}}],` + visit + `}`
		},
		"eligibility request": func(cov string) string {
			return `{"resourceType":"CoverageEligibilityRequest","id":"x","status":"active","patient":{"reference":"Patient/p1"},"insurance":[{"coverage":{"reference":"Coverage/` + cov + `"}}]}`
		},
		"service request": func(cov string) string {
			return `{"resourceType":"ServiceRequest","id":"x","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"insurance":[{"reference":"Coverage/` + cov + `"}]}`
		},
	}
	sud := labels.Label{System: labels.SystemActCode, Code: "SUD"}
	for name, rec := range records {
		rs, err := l.LabelAll([][]byte{[]byte(rec("sub")), []byte(coverage("sub", "SUBPRG")), []byte(coverage("hmo", "HMO"))})
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Labels.Has(sud) || !rs[0].Labels.Has(labels.Restricted) {
			t.Errorf("%s billed to a substance use program: labels %v; want SUD, R", name, rs[0].Labels)
		}
		rs, err = l.LabelAll([][]byte{[]byte(rec("hmo")), []byte(coverage("sub", "SUBPRG")), []byte(coverage("hmo", "HMO"))})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs[0].Labels) != 0 {
			t.Errorf("%s billed to an HMO: labels %v; want none", name, rs[0].Labels)
		}
	}
}
