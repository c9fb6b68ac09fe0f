package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProviderTaxonomyQA31E: a claim's or explanation of benefit's care
// team qualification (NUCC provider taxonomy, which CARIN Blue Button binds
// careTeam.qualification to) of a methadone clinic, a substance abuse
// rehabilitation facility or an addiction medicine physician tells SUD
// care, and of a psychiatric hospital, a mental health clinic or a
// psychiatrist mental health care, whatever the claim bills; such a claim
// was ordinary. A family physician's claim stays ordinary, and so do the
// directory's entries typed by the same codes.
func TestProviderTaxonomyQA31E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	const nucc = "http://nucc.org/provider-taxonomy"
	qual := func(code string) string {
		return `{"coding":[{"system":"` + nucc + `","code":"` + code + `"}]}`
	}
	body := func(code string) string {
		return `"careTeam":[{"sequence":1,"provider":{"reference":"Organization/o1"},"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claimcareteamrole","code":"primary"}]},"qualification":` + qual(code) + `}],` +
			`"item":[{"sequence":1,"careTeamSequence":[1],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]}}]`
	}
	claim := func(code string) string {
		return `{"resourceType":"Claim","status":"active","patient":{"reference":"Patient/p1"},` + body(code) + `}`
	}
	eob := func(code string) string {
		return `{"resourceType":"ExplanationOfBenefit","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},` + body(code) + `}`
	}
	for _, c := range []struct {
		name, in string
		sud, mh  bool
	}{
		{"claim, methadone clinic", claim("261QM2800X"), true, false},
		{"explanation of benefit, substance abuse rehabilitation facility", eob("324500000X"), true, false},
		{"claim, children's substance abuse treatment", claim("3245S0500X"), true, false},
		{"claim, substance use disorder rehabilitation clinic", claim("261QR0405X"), true, false},
		{"explanation of benefit, substance use disorder unit", eob("276400000X"), true, false},
		{"claim, addiction medicine", claim("207RA0401X"), true, false},
		{"explanation of benefit, addiction psychiatry", eob("2084P0802X"), true, false},
		{"claim, addiction counselor", claim("101YA0400X"), true, false},
		{"explanation of benefit, psychiatric hospital", eob("283Q00000X"), false, true},
		{"claim, psychiatric unit", claim("273R00000X"), false, true},
		{"claim, mental health clinic", claim("261QM0801X"), false, true},
		{"explanation of benefit, psychiatrist", eob("2084P0800X"), false, true},
		{"claim, psychiatric residential treatment facility", claim("323P00000X"), false, true},
		{"claim, psychiatric nurse practitioner", claim("363LP0808X"), false, true},
		{"claim, family medicine", claim("207Q00000X"), false, false},
		{"explanation of benefit, general acute care hospital", eob("282N00000X"), false, false},
		{"claim, intellectual disabilities residential facility", claim("320900000X"), false, false},
		{"organization of the directory", `{"resourceType":"Organization","type":[` + qual("261QM2800X") + `]}`, false, false},
		{"practitioner role of the directory", `{"resourceType":"PractitionerRole","code":[` + qual("2084P0800X") + `],"specialty":[` + qual("2084P0802X") + `]}`, false, false},
		{"healthcare service of the directory", `{"resourceType":"HealthcareService","type":[` + qual("324500000X") + `]}`, false, false},
		{"location of the directory", `{"resourceType":"Location","type":[` + qual("283Q00000X") + `]}`, false, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(mh) != c.mh {
			t.Errorf("%s: labels %v, elements %v, %v; want SUD %v, MH %v", c.name, r.Labels, r.Elements, err, c.sud, c.mh)
		}
	}
}
