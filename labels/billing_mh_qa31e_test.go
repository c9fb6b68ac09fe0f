package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestMHBillingCodesQA31E: a claim whose only trace of mental health care
// is its billing code (a psychiatric room and board or clinic revenue line,
// a partial hospitalization, a psychoses DRG, assertive community
// treatment under HCPCS) is MH and restricted, as a diagnosis would make
// it; none labelled anything, so such a claim went to any payer as
// ordinary. An intensive outpatient chemical dependency line (revenue
// 0906) is SUD. Codes of behavioral health in general, and the DRGs of
// intellectual disability and developmental disorders, stay ordinary.
func TestMHBillingCodesQA31E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	claim := func(system, code string) string {
		return `{"resourceType":"Claim","id":"c","status":"active","patient":{"reference":"Patient/p"},` +
			`"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
	}
	const (
		hcpcs   = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
		revenue = "https://www.nubc.org/CodeSystem/RevenueCodes"
		drg     = "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software"
	)
	for _, c := range []struct {
		system, code string
		mh, sud      bool
	}{
		{revenue, "0114", true, false}, {revenue, "124", true, false}, {revenue, "0204", true, false},
		{revenue, "0513", true, false}, {revenue, "0913", true, false}, {revenue, "0914", true, false},
		{revenue, "1001", true, false}, {revenue, "905", true, false},
		{drg, "885", true, false}, {drg, "881", true, false}, {drg, "876", true, false},
		{hcpcs, "H0031", true, false}, {hcpcs, "H0040", true, false}, {hcpcs, "h2017", true, false},
		{hcpcs, "G0410", true, false}, {hcpcs, "S9480", true, false},
		{revenue, "0906", false, true}, {revenue, "906", false, true},
		{revenue, "0900", false, false}, // behavioral health in general
		{revenue, "0450", false, false}, {revenue, "0110", false, false},
		{drg, "884", false, false}, {drg, "886", false, false}, {drg, "193", false, false},
		{hcpcs, "H0002", false, false}, {hcpcs, "G0008", false, false},
	} {
		r, err := l.Label([]byte(claim(c.system, c.code)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(mh) != c.mh || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(labels.Restricted) != (c.mh || c.sud) {
			t.Errorf("%s|%s: labels %v, want MH %v, SUD %v", c.system, c.code, r.Labels, c.mh, c.sud)
		}
	}
}

// TestSUDBillingCodesMoreQA31E: HCPCS's own SBIRT codes (G0396, G0397, the
// structured assessment and brief intervention of alcohol or substance
// abuse, as CPT 99408-99409 are) and the T-codes of alcohol and substance
// abuse services T1009, T1010 and T1012 were ordinary: a claim billing
// only them went to any payer. The annual alcohol misuse screening G0442,
// given to everyone, stays ordinary.
func TestSUDBillingCodesMoreQA31E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	const hcpcs = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	for code, sud := range map[string]bool{"G0396": true, "G0397": true, "T1009": true, "T1010": true, "T1012": true, "G0442": false} {
		in := `{"resourceType":"Claim","id":"c","status":"active","patient":{"reference":"Patient/p"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + hcpcs + `","code":"` + code + `"}]}}]}`
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(labels.SUD) != sud || r.Labels.Has(labels.Restricted) != sud {
			t.Errorf("%s: labels %v, want SUD and R %v", code, r.Labels, sud)
		}
	}
}
