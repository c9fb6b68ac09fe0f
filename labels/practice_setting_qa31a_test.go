package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestPracticeSettingMHQA31A: the mental health specialties of HL7's
// c80-practice-codes value set (Practice Setting Code Value Set, SNOMED
// CT: 394587001 Psychiatry, 394588006 child and adolescent psychiatry,
// 394913002 Psychotherapy, 408467006 Adult mental illness), the binding of
// Appointment.specialty and DocumentReference.context.practiceSetting,
// say that a visit or a document was of a psychiatry practice. An
// appointment whose only trace of mental health care was its specialty
// was ordinary, where the same appointment by HL7 service-type 141
// (Psychiatry) is labelled MH (d6f909f). Directory data (a
// PractitionerRole's, HealthcareService's, Schedule's or Slot's specialty)
// stays ordinary, and so does an appointment of another specialty.
func TestPracticeSettingMHQA31A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	sp := func(code string) string {
		return `{"coding":[{"system":"http://snomed.info/sct","code":"` + code + `"}]}`
	}
	const who = `"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]`
	for _, c := range []struct {
		name, in string
		mh       bool
	}{
		{"psychiatry appointment", `{"resourceType":"Appointment","status":"booked","specialty":[` + sp("394587001") + `],` + who + `}`, true},
		{"child psychiatry appointment", `{"resourceType":"Appointment","status":"booked","specialty":[` + sp("394588006") + `],` + who + `}`, true},
		{"psychotherapy appointment", `{"resourceType":"Appointment","status":"booked","specialty":[` + sp("394913002") + `],` + who + `}`, true},
		{"adult mental illness appointment", `{"resourceType":"Appointment","status":"booked","specialty":[` + sp("408467006") + `],` + who + `}`, true},
		{"psychiatry encounter", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"type":[` + sp("394587001") + `],"subject":{"reference":"Patient/p1"}}`, true},
		{"psychiatry document", `{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"context":{"practiceSetting":` + sp("394587001") + `},"content":[{"attachment":{"contentType":"text/plain","url":"Binary/b1"}}]}`, true},
		{"cardiology appointment", `{"resourceType":"Appointment","status":"booked","specialty":[` + sp("394579002") + `],` + who + `}`, false},
		{"learning disability appointment", `{"resourceType":"Appointment","status":"booked","specialty":[` + sp("408468001") + `],` + who + `}`, false},
		{"psychiatrist's role", `{"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/doc"},"specialty":[` + sp("394587001") + `]}`, false},
		{"psychiatry service", `{"resourceType":"HealthcareService","specialty":[` + sp("394587001") + `]}`, false},
		{"psychiatrist's schedule", `{"resourceType":"Schedule","specialty":[` + sp("394587001") + `],"actor":[{"reference":"Practitioner/doc"}]}`, false},
		{"psychiatry slot", `{"resourceType":"Slot","schedule":{"reference":"Schedule/s"},"status":"free","specialty":[` + sp("394587001") + `],"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(mh) != c.mh {
			t.Errorf("%s: labels %v, %v; want MH %v", c.name, r.Labels, err, c.mh)
		}
	}
}
