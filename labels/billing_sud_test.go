package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestSUDBillingCodesLabelled: a claim whose only trace of SUD care is its
// billing code (a methadone administration under HCPCS, SBIRT under CPT, a
// drug rehabilitation revenue line, an alcohol and drug DRG) is SUD and
// restricted, as a diagnosis would make it (QA round 28, area B: none of
// them labelled anything, so such a claim went to any payer as ordinary).
// Codes of neighbouring services that are not SUD care stay ordinary.
func TestSUDBillingCodesLabelled(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	claim := func(system, code string) string {
		return `{"resourceType":"Claim","id":"c","status":"active","patient":{"reference":"Patient/p"},` +
			`"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
	}
	const (
		hcpcs   = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
		cpt     = "http://www.ama-assn.org/go/cpt"
		revenue = "https://www.nubc.org/CodeSystem/RevenueCodes"
		drg     = "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software"
	)
	for _, c := range []struct {
		system, code string
		sud          bool
	}{
		{hcpcs, "H0020", true}, {hcpcs, "G2067", true}, {hcpcs, "J0572", true}, {hcpcs, "S9475", true},
		{hcpcs, "h0001", true}, // HCPCS codes are matched in any case
		{cpt, "99408", true}, {revenue, "0944", true}, {revenue, "944", true}, {revenue, "0126", true}, {drg, "897", true},
		{hcpcs, "H0002", false}, // behavioural health screening in general
		{hcpcs, "H0021", false}, // staff training
		{cpt, "99213", false}, {revenue, "0450", false}, {drg, "885", false},
	} {
		r, err := l.Label([]byte(claim(c.system, c.code)))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Labels.Has(labels.SUD) && r.Labels.Has(labels.Restricted); got != c.sud {
			t.Errorf("%s|%s: labels %v, want SUD and R: %v", c.system, c.code, r.Labels, c.sud)
		}
	}
}
