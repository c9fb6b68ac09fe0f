package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area E: an appointment for sexual assault counselling (THO
// service-type 80) and one for genetic counselling (75) were served as
// ordinary data to a payer, against the policy's SDV and GDIS topics; now
// they are withheld from the payer as if absent, org-a, whom the patient's
// consent permits, reads them, and a physiotherapy appointment is served
// to both.
func TestServiceTypeWithheldQA31E(t *testing.T) {
	t.Parallel()
	appt := func(id, code string) string {
		return `{"resourceType":"Appointment","id":"` + id + `","status":"booked","serviceType":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-type","code":"` + code + `"}]}],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`
	}
	bodies := map[string]string{
		"/fhir/R4/Appointment/a1": appt("a1", "80"),
		"/fhir/R4/Appointment/a2": appt("a2", "75"),
		"/fhir/R4/Appointment/a3": appt("a3", "65"),
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	for _, id := range []string{"a1", "a2"} {
		if resp, body := h.get("/fhir/Appointment/"+id, tokPayer); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Appointment/%s for the payer: %d %s, want 404", id, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/Appointment/"+id, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("Appointment/%s for org-a: %d %s, want it", id, resp.StatusCode, body)
		}
	}
	for _, tok := range []string{tokPayer, tokConsented} {
		if resp, body := h.get("/fhir/Appointment/a3", tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"a3"`) {
			t.Errorf("Appointment/a3 for %s: %d %s, want it", tok, resp.StatusCode, body)
		}
	}
}
