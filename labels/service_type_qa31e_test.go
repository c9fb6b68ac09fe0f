package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestServiceTypeQA31E: an appointment or encounter whose HL7 service type
// (THO service-type) is genetic counselling (GDIS), family violence or
// sexual assault counselling (SDV), or sexual health or family planning
// (SEX) tells the kind of care; such records were ordinary. Physiotherapy
// stays ordinary, and so does a HealthcareService of the directory typed
// by the same code.
func TestServiceTypeQA31E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	label := func(code string) labels.Label { return labels.Label{System: labels.SystemActCode, Code: code} }
	st := func(code string) string {
		return `[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-type","code":"` + code + `"}]}]`
	}
	appointment := func(code string) string {
		return `{"resourceType":"Appointment","status":"booked","serviceType":` + st(code) + `,"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`
	}
	encounter := func(code string) string {
		return `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceType":` + st(code)[1:len(st(code))-1] + `}`
	}
	for _, c := range []struct {
		name, in, topic string
	}{
		{"appointment for genetic counselling", appointment("75"), "GDIS"},
		{"encounter of genetic counselling", encounter("75"), "GDIS"},
		{"appointment for family violence counselling", appointment("72"), "SDV"},
		{"encounter of sexual assault counselling", encounter("80"), "SDV"},
		{"appointment for sexual health", appointment("67"), "SEX"},
		{"encounter of family planning", encounter("54"), "SEX"},
		{"appointment for physiotherapy", appointment("65"), ""},
		{"service of the directory", `{"resourceType":"HealthcareService","type":` + st("80") + `}`, ""},
		{"genetics service of the directory", `{"resourceType":"HealthcareService","type":` + st("75") + `}`, ""},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		for _, topic := range []string{"GDIS", "SDV", "SEX"} {
			if r.Labels.Has(label(topic)) != (topic == c.topic) {
				t.Errorf("%s: labels %v; want %q", c.name, r.Labels, c.topic)
			}
		}
		if r.Labels.Has(labels.Restricted) != (c.topic != "") {
			t.Errorf("%s: labels %v; want R %v", c.name, r.Labels, c.topic != "")
		}
	}
}
