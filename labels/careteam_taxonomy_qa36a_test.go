package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCareTeamProviderTaxonomyQA36A: US Core binds a CareTeam's
// participant.role to the NUCC provider taxonomy (US Core CareTeam
// Provider Roles), as CARIN Blue Button binds a claim's
// careTeam.qualification. A patient's care team naming an addiction
// counselor or a methadone clinic tells of SUD care as the claim does, but
// the taxonomy rules were limited to Claim and ExplanationOfBenefit: the
// CareTeam was ordinary and went to a caller the patient's consent denies
// SUD (or MH, SEX, GDIS) information (QA round 36, area A). Directory
// resources typed by the same codes stay ordinary.
func TestCareTeamProviderTaxonomyQA36A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	team := func(code string) string {
		return `{"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/p1"},"participant":[` +
			`{"role":[{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"207Q00000X"}]}],"member":{"reference":"Practitioner/gp"}},` +
			`{"role":[{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"` + code + `"}]}],"member":{"reference":"Practitioner/x"}}]}`
	}
	for _, c := range []struct {
		name, in, topic string // topic "" = ordinary
	}{
		{"addiction counselor", team("101YA0400X"), "SUD"},
		{"methadone clinic", team("261QM2800X"), "SUD"},
		{"addiction psychiatry", team("2084P0802X"), "SUD"},
		{"psychiatrist", team("2084P0800X"), "MH"},
		{"clinical psychologist", team("103TC0700X"), "MH"},
		{"reproductive endocrinology", team("207VE0102X"), "SEX"},
		{"genetic counselor", team("170300000X"), "GDIS"},
		{"family medicine alone", team("207Q00000X"), ""},
		{"cardiology", team("207RC0000X"), ""},
		{"practitioner role of the directory", `{"resourceType":"PractitionerRole","code":[{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"101YA0400X"}]}]}`, ""},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, topic := range []string{"SUD", "MH", "SEX", "GDIS"} {
			if r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: topic}) != (topic == c.topic) {
				t.Errorf("%s: labels %v; want topic %q", c.name, r.Labels, c.topic)
			}
		}
		if r.Labels.Has(labels.Restricted) != (c.topic != "") {
			t.Errorf("%s: labels %v; want R %v", c.name, r.Labels, c.topic != "")
		}
	}
}
