package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestServiceCategoryQA30E: an Appointment's serviceCategory of HL7's
// service-category code system (http://terminology.hl7.org/CodeSystem/
// service-category, THO, CC0) says the kind of care as its serviceType
// does: 12 Drug/Alcohol and 22 Mental Health. d6f909f and 0598e60 label
// the SUD and mental health service types of an appointment or encounter;
// an appointment naming the category alone (schedulers fill it where the
// type list is local) stayed ordinary and told a payer, or any caller, of
// SUD or mental health care. Directory data (a HealthcareService's
// category, a Schedule's) stays ordinary.
func TestServiceCategoryQA30E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	sc := func(code string) string {
		return `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-category","code":"` + code + `"}]}`
	}
	for _, c := range []struct {
		name, in string
		sud, mh  bool
	}{
		{"drug/alcohol appointment", `{"resourceType":"Appointment","status":"booked","serviceCategory":[` + sc("12") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, true, false},
		{"mental health appointment", `{"resourceType":"Appointment","status":"booked","serviceCategory":[` + sc("22") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, false, true},
		{"dental appointment", `{"resourceType":"Appointment","status":"booked","serviceCategory":[` + sc("10") + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`, false, false},
		{"directory entry", `{"resourceType":"HealthcareService","category":[` + sc("12") + `]}`, false, false},
		{"schedule", `{"resourceType":"Schedule","serviceCategory":[` + sc("22") + `],"actor":[{"reference":"Practitioner/doc"}]}`, false, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(mh) != c.mh {
			t.Errorf("%s: labels %v, %v; want SUD %v, MH %v", c.name, r.Labels, err, c.sud, c.mh)
		}
	}
}
