package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestICD10PCSTreatmentQA39E: ICD-10-PCS, the code system of inpatient
// procedures (Procedure.code, Claim and ExplanationOfBenefit procedure),
// has a section for substance abuse treatment (H: detoxification,
// counseling, methadone maintenance ...) and one for mental health (G:
// psychotherapy, electroconvulsive therapy ...). No rule named the system,
// so an inpatient detox or an ECT coded so went out ordinary to a caller
// denied SUD or MH. Other sections, and the developmental, intellectual,
// neuropsychological and cognitive tests of GZ1, stay ordinary.
func TestICD10PCSTreatmentQA39E(t *testing.T) {
	t.Parallel()
	const pcs = "http://www.cms.gov/Medicare/Coding/ICD10"
	proc := func(code string) string {
		return `{"resourceType":"Procedure","status":"completed","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + pcs + `","code":"` + code + `"}]}}`
	}
	eob := func(code string) string {
		return `{"resourceType":"ExplanationOfBenefit","status":"active","use":"claim","patient":{"reference":"Patient/p1"},` +
			`"procedure":[{"sequence":1,"procedureCodeableConcept":{"coding":[{"system":"` + pcs + `","code":"` + code + `"}]}}]}`
	}
	l := labels.Default()
	for _, c := range []struct {
		name, in, topic string // topic "" = ordinary
	}{
		{"detoxification services", proc("HZ2ZZZZ"), "SUD"},
		{"group counseling, 12-step", proc("HZ43ZZZ"), "SUD"},
		{"methadone maintenance, on a claim", eob("HZ81ZZZ"), "SUD"},
		{"electroconvulsive therapy", proc("GZB0ZZZ"), "MH"},
		{"individual psychotherapy", eob("GZ56ZZZ"), "MH"},
		{"personality test", proc("GZ11ZZZ"), "MH"},
		{"developmental test", proc("GZ10ZZZ"), ""},
		{"neuropsychological test", proc("GZ13ZZZ"), ""},
		{"nicotine replacement, medication management", proc("HZ80ZZZ"), ""},
		{"nicotine replacement, pharmacotherapy", eob("HZ90ZZZ"), ""},
		{"methadone maintenance, pharmacotherapy", proc("HZ91ZZZ"), "SUD"},
		{"appendectomy", proc("0DTJ4ZZ"), ""},
		{"rehabilitation", proc("F07Z9ZZ"), ""},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, topic := range []string{"SUD", "MH"} {
			if r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: topic}) != (topic == c.topic) {
				t.Errorf("%s: labels %v; want topic %q", c.name, r.Labels, c.topic)
			}
		}
		if c.topic == "" && r.Labels.Has(labels.Restricted) {
			t.Errorf("%s: labels %v; want ordinary", c.name, r.Labels)
		}
	}
}
