package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestFacilityTypeQA31E: a document, encounter or claim from a facility
// whose HITSP C80 facility type (c80-facilitycodes, bound to
// DocumentReference.context.facilityType) is a substance abuse treatment
// center (SUD), a psychiatric hospital or mental health center (MH) or a
// sexually transmitted disease health center (STD) tells the kind of care;
// such records were ordinary. A document of a dermatology clinic stays
// ordinary, and so does a Location of the directory typed by the code.
func TestFacilityTypeQA31E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	std := labels.Label{System: labels.SystemActCode, Code: "STD"}
	cc := func(code string) string {
		return `{"coding":[{"system":"http://snomed.info/sct","code":"` + code + `"}]}`
	}
	doc := func(code string) string {
		return `{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]},"context":{"facilityType":` + cc(code) + `},"content":[{"attachment":{"url":"Binary/b1"}}]}`
	}
	encounter := func(code string) string {
		return `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Location","id":"l","type":[` + cc(code) + `]}],"location":[{"location":{"reference":"#l"}}]}`
	}
	for _, c := range []struct {
		name, in      string
		sud, mh, sexd bool
	}{
		{"note of a substance abuse treatment center", doc("20078004"), true, false, false},
		{"encounter at a substance abuse treatment center", encounter("20078004"), true, false, false},
		{"note of a psychiatric hospital", doc("62480006"), false, true, false},
		{"note of a hospital outpatient mental health center", doc("14866005"), false, true, false},
		{"encounter at a free-standing mental health center", encounter("51563005"), false, true, false},
		{"note of a psychogeriatric day hospital", doc("309898008"), false, true, false},
		{"note of a sexually transmitted disease health center", doc("25681007"), false, false, true},
		{"note of a dermatology clinic", doc("37550003"), false, false, false},
		{"encounter at an emergency department", encounter("73770003"), false, false, false},
		{"location of the directory", `{"resourceType":"Location","type":[` + cc("20078004") + `]}`, false, false, false},
		{"organization of the directory", `{"resourceType":"Organization","type":[` + cc("62480006") + `]}`, false, false, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(mh) != c.mh || r.Labels.Has(std) != c.sexd {
			t.Errorf("%s: labels %v, elements %v, %v; want SUD %v, MH %v, STD %v", c.name, r.Labels, r.Elements, err, c.sud, c.mh, c.sexd)
		}
	}
}
