package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area E: a referral to an addiction treatment center (HL7 v3
// RoleCode RHAT as ServiceRequest.locationCode), an encounter at a
// psychiatry clinic (a contained Location of type PSY) and an appointment
// with clinical genetics (c80-practice-codes 394580004) were served as
// ordinary data to a payer and to org-b, whom the patient's consent denies;
// now they are withheld from them as if absent, org-a, whom the consent
// permits, reads them, and a cardiology referral and the addiction
// treatment center's Location (directory data) are served to all.
func TestCareSettingWithheldQA31E(t *testing.T) {
	t.Parallel()
	const role = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
	bodies := map[string]string{
		"/fhir/R4/ServiceRequest/sr1": `{"resourceType":"ServiceRequest","id":"sr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"11429006"}]},"locationCode":[{"coding":[{"system":"` + role + `","code":"RHAT"}]}]}`,
		"/fhir/R4/ServiceRequest/sr2": `{"resourceType":"ServiceRequest","id":"sr2","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"11429006"}]},"locationCode":[{"coding":[{"system":"` + role + `","code":"CARD"}]}]}`,
		"/fhir/R4/Encounter/e1":       `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Location","id":"l","type":[{"coding":[{"system":"` + role + `","code":"PSY"}]}]}],"location":[{"location":{"reference":"#l"}}]}`,
		"/fhir/R4/Appointment/ap1":    `{"resourceType":"Appointment","id":"ap1","status":"booked","specialty":[{"coding":[{"system":"http://snomed.info/sct","code":"394580004"}]}],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`,
		"/fhir/R4/Location/l1":        `{"resourceType":"Location","id":"l1","type":[{"coding":[{"system":"` + role + `","code":"RHAT"}]}]}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	withheld := map[string][]string{
		"ServiceRequest/sr1": {tokPayer, tokOther},
		"Encounter/e1":       {tokPayer, tokOther},
		"Appointment/ap1":    {tokPayer},
	}
	for p, toks := range withheld {
		for _, tok := range toks {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s for %s: %d %s, want 404", p, tok, resp.StatusCode, body)
			}
		}
		id := p[strings.IndexByte(p, '/')+1:]
		if resp, body := h.get("/fhir/"+p, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("%s for org-a: %d %s, want it", p, resp.StatusCode, body)
		}
	}
	for _, tok := range []string{tokPayer, tokOther, tokConsented} {
		for _, p := range []string{"ServiceRequest/sr2", "Location/l1"} {
			id := p[strings.IndexByte(p, '/')+1:]
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
				t.Errorf("%s for %s: %d %s, want it", p, tok, resp.StatusCode, body)
			}
		}
	}
}
