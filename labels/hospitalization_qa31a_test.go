package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestPsychiatricHospitalizationQA31A: an Encounter whose hospitalization
// came from a psychiatric hospital (THO admit-source psych) or discharged
// the patient to one (THO discharge-disposition psy) tells a psychiatric
// stay, yet it was ordinary. Other sources and dispositions (home, a
// nursing home) stay so.
func TestPsychiatricHospitalizationQA31A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	enc := func(member, system, code string) string {
		return `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"Patient/p1"},"hospitalization":{"` + member + `":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/` + system + `","code":"` + code + `"}]}}}`
	}
	for _, c := range []struct {
		name, in string
		mh       bool
	}{
		{"from a psychiatric hospital", enc("admitSource", "admit-source", "psych"), true},
		{"to a psychiatric hospital", enc("dischargeDisposition", "discharge-disposition", "psy"), true},
		{"from a nursing home", enc("admitSource", "admit-source", "nursing"), false},
		{"home", enc("dischargeDisposition", "discharge-disposition", "home"), false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(mh) != c.mh {
			t.Errorf("%s: labels %v, %v; want MH %v", c.name, r.Labels, err, c.mh)
		}
	}
}
