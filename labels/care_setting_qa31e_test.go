package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCareSettingQA31E: the HL7 v3 RoleCode service delivery location
// types of an addiction treatment center or substance use rehabilitation
// facility (SUD), a psychiatry or psychology clinic or psychiatric unit or
// facility (MH) and a medical genetics clinic (GDIS), on a ServiceRequest's
// locationCode, a claim line's locationCodeableConcept or a Location
// contained in an Encounter or Appointment, and the genetics specialties of
// c80-practice-codes on an Appointment, Encounter or DocumentReference,
// tell the kind of care; such records were ordinary. A cardiology clinic
// stays ordinary, and so do the directory's Location, HealthcareService
// and PractitionerRole typed by the same codes.
func TestCareSettingQA31E(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	gdis := labels.Label{System: labels.SystemActCode, Code: "GDIS"}
	cc := func(system, code string) string {
		return `{"coding":[{"system":"` + system + `","code":"` + code + `"}]}`
	}
	const role = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
	const sct = "http://snomed.info/sct"
	order := func(code string) string {
		return `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"code":` + cc(sct, "11429006") + `,"locationCode":[` + cc(role, code) + `]}`
	}
	claim := func(code string) string {
		return `{"resourceType":"Claim","status":"active","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":` + cc("http://www.ama-assn.org/go/cpt", "99213") + `,"locationCodeableConcept":` + cc(role, code) + `}]}`
	}
	encounter := func(code string) string {
		return `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Location","id":"l","type":[` + cc(role, code) + `]}],"location":[{"location":{"reference":"#l"}}]}`
	}
	appointment := func(system, code string) string {
		return `{"resourceType":"Appointment","status":"booked","specialty":[` + cc(system, code) + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`
	}
	for _, c := range []struct {
		name, in     string
		sud, mh, gen bool
	}{
		{"order at an addiction treatment center", order("RHAT"), true, false, false},
		{"claim line at a substance use rehabilitation facility", claim("SURF"), true, false, false},
		{"encounter at a psychiatry clinic", encounter("PSY"), false, true, false},
		{"order at a psychology clinic", order("PSI"), false, true, false},
		{"claim line at a psychiatric care facility", claim("PSYCHF"), false, true, false},
		{"order at a psychiatric hospital unit", order("PHU"), false, true, false},
		{"encounter at a child and adolescent psychiatry clinic", encounter("CAPC"), false, true, false},
		{"order at a medical genetics clinic", order("MGEN"), false, false, true},
		{"appointment with clinical genetics", appointment(sct, "394580004"), false, false, true},
		{"appointment with pediatric genetics", appointment(sct, "420208008"), false, false, true},
		{"document of cytogenetics", `{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"context":{"practiceSetting":` + cc(sct, "394804000") + `},"content":[{"attachment":{"url":"Binary/b1"}}]}`, false, false, true},
		{"order at a cardiology clinic", order("CARD"), false, false, false},
		{"encounter at a general acute care hospital", encounter("GACH"), false, false, false},
		{"appointment with cardiology", appointment(sct, "394579002"), false, false, false},
		{"location of the directory", `{"resourceType":"Location","type":[` + cc(role, "RHAT") + `]}`, false, false, false},
		{"psychiatry location of the directory", `{"resourceType":"Location","type":[` + cc(role, "PSYCHF") + `]}`, false, false, false},
		{"service of the directory", `{"resourceType":"HealthcareService","type":[` + cc(role, "MGEN") + `],"specialty":[` + cc(sct, "394580004") + `]}`, false, false, false},
		{"geneticist's role", `{"resourceType":"PractitionerRole","specialty":[` + cc(sct, "394580004") + `]}`, false, false, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(mh) != c.mh || r.Labels.Has(gdis) != c.gen {
			t.Errorf("%s: labels %v, elements %v, %v; want SUD %v, MH %v, GDIS %v", c.name, r.Labels, r.Elements, err, c.sud, c.mh, c.gen)
		}
	}
}
