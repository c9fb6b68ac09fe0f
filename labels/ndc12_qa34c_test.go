package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestNDC12DigitQA34C: the FDA's 12-digit NDC (6-4-2; final rule of 5
// March 2026) writes each existing NDC with leading zeros, Suboxone's
// 12496-1202-3 as 012496-1202-03 or 012496120203. A dispense or statement
// coded so went out as ordinary data: only the 10- and 11-digit forms were
// keyed. A 12-digit code is its 11-digit form after its leading zero; one
// of a 6-digit labeler (no leading zero), 13 digits, or misplaced hyphens
// is no NDC the rules name.
func TestNDC12DigitQA34C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	sud := func(code string) bool {
		in := `{"resourceType":"MedicationDispense","status":"completed","subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/ndc","code":"` + code + `"}]}}`
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		return r.Labels.Has(labels.ParseLabel("SUD"))
	}
	for _, c := range []string{"012496-1202-03", "012496120203", " 012496-1202-03 ", "012496-0300-01", "012496030001"} {
		if !sud(c) {
			t.Errorf("%q: not SUD", c)
		}
	}
	for _, c := range []string{"112496-1202-03", "112496120203", "0012496120203", "012496-01202-3", "012496-1202-3", "12496-01202-03"} {
		if sud(c) {
			t.Errorf("%q: SUD", c)
		}
	}
	// A rule may list the 12-digit form too.
	rl, err := labels.NewLabeller(labels.Options{Rules: []labels.Rule{{ID: "x", System: "http://hl7.org/fhir/sid/ndc", Codes: []string{"000002-1433-80"}, Labels: labels.NewSet(labels.ParseLabel("SUD"))}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rl.Label([]byte(`{"resourceType":"MedicationDispense","status":"completed","subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/ndc","code":"0002-1433-80"}]}}`))
	if err != nil || !r.Labels.Has(labels.ParseLabel("SUD")) {
		t.Errorf("a 12-digit rule code: %v %v", r.Labels, err)
	}
}
