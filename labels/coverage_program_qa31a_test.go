package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCoverageProgramQA31A: FHIR R4's coverage-type value set takes HL7 v3
// ActCode's program and policy types: SUBPRG substance use program,
// MENTPRG mental health program, MENTPOL mental health policy, HIVAIDS
// HIV-AIDS program. A Coverage of one of them tells that the patient is
// covered for SUD, mental health or HIV care, yet it was ordinary. Other
// types (a drug policy, a public policy) stay so, and the same codes on a
// resource of another type (an InsurancePlan, directory data) do nothing.
func TestCoverageProgramQA31A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	hiv := labels.Label{System: labels.SystemActCode, Code: "HIV"}
	typ := func(code string) string {
		return `"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + code + `"}]}`
	}
	cov := func(code string) string {
		return `{"resourceType":"Coverage","status":"active",` + typ(code) + `,"beneficiary":{"reference":"Patient/p1"},"payor":[{"reference":"Organization/payer"}]}`
	}
	for _, c := range []struct {
		name, in     string
		sud, mh, hiv bool
	}{
		{"substance use program", cov("SUBPRG"), true, false, false},
		{"mental health program", cov("MENTPRG"), false, true, false},
		{"mental health policy", cov("MENTPOL"), false, true, false},
		{"HIV-AIDS program", cov("HIVAIDS"), false, false, true},
		{"drug policy", cov("DRUGPOL"), false, false, false},
		{"public policy", cov("PUBLICPOL"), false, false, false},
		{"plan of the directory", `{"resourceType":"InsurancePlan","status":"active","type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUBPRG"}]}]}`, false, false, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(mh) != c.mh || r.Labels.Has(hiv) != c.hiv {
			t.Errorf("%s: labels %v, %v; want SUD %v, MH %v, HIV %v", c.name, r.Labels, err, c.sud, c.mh, c.hiv)
		}
	}
}
