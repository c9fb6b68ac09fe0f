package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area A: an appointment with a psychiatry practice (HL7
// c80-practice-codes 394587001 as Appointment.specialty) was served as
// ordinary data to a payer and to org-b, whom the patient's consent
// denies, and told them of mental health care; now it is withheld from
// both as if absent, while org-a, whom the consent permits, reads it, and
// a cardiology appointment and a psychiatrist's PractitionerRole
// (directory data) are served to all three.
func TestPracticeSettingAppointmentQA31A(t *testing.T) {
	t.Parallel()
	const psych = `{"coding":[{"system":"http://snomed.info/sct","code":"394587001","display":"Psychiatry"}]}`
	bodies := map[string]string{
		"/fhir/R4/Appointment/ap1":      `{"resourceType":"Appointment","id":"ap1","status":"booked","specialty":[` + psych + `],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`,
		"/fhir/R4/Appointment/ap2":      `{"resourceType":"Appointment","id":"ap2","status":"booked","specialty":[{"coding":[{"system":"http://snomed.info/sct","code":"394579002"}]}],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`,
		"/fhir/R4/PractitionerRole/pr1": `{"resourceType":"PractitionerRole","id":"pr1","practitioner":{"reference":"Practitioner/doc"},"specialty":[` + psych + `]}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	for _, tok := range []string{tokPayer, tokOther} {
		if resp, body := h.get("/fhir/Appointment/ap1", tok); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Appointment/ap1 for %s: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Appointment/ap1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"ap1"`) {
		t.Errorf("Appointment/ap1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
	for _, tok := range []string{tokPayer, tokOther, tokConsented} {
		for _, p := range []string{"Appointment/ap2", "PractitionerRole/pr1"} {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+p[strings.IndexByte(p, '/')+1:]+`"`) {
				t.Errorf("%s: %d %s, want it", p, resp.StatusCode, body)
			}
		}
	}
}
