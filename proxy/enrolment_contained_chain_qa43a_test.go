package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientContainedRoleAtContainedDepartmentQA43A (QA round 43, helper
// A, on e268dd5): a Patient whose generalPractitioner is a contained
// PractitionerRole #r whose organization is a contained department #o
// (partOf the Part 2 program p2, or partOf its department u1) went to org-b
// with #o cut but #r, its code and the member naming it kept (200): each
// contained entry was judged by what it names outside the Patient, so #r,
// naming #o, stood for nothing, and the role said what #o's cut hid. A
// contained entry belonging to one cut is cut too, to the end of the chain
// (a role at a contained site managed by a contained department, listed
// before them); a consented caller gets them all; a chain ending at an
// ordinary hospital stays whole.
func TestPatientContainedRoleAtContainedDepartmentQA43A(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/p2": `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
		"/Organization/h1": `{"resourceType":"Organization","id":"h1","name":"General"}`,
	}
	patient := func(contained string) string {
		return `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[` + contained + `],"generalPractitioner":[{"reference":"#r"}]}`
	}
	const role = `{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"#o"},"code":[{"text":"addiction counsellor"}]}`
	dept := func(parent string) string {
		return `{"resourceType":"Organization","id":"o","partOf":{"reference":"` + parent + `"}}`
	}
	for _, tc := range []struct{ name, pat string }{
		{"department partOf the program", patient(role + "," + dept("Organization/p2"))},
		{"department partOf the program's department", patient(role + "," + dept("Organization/u1"))},
		{"role at a site managed by a department", patient(`{"resourceType":"PractitionerRole","id":"r","location":[{"reference":"#l"}],"code":[{"text":"addiction counsellor"}]},` +
			`{"resourceType":"Location","id":"l","managingOrganization":{"reference":"#o"}},` + dept("Organization/u1"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, patientWithDirectory(entries, tc.pat), withProgram)
			resp, body := h.get("/fhir/Patient/p1", tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, `"#r"`) || strings.Contains(body, "addiction") || strings.Contains(body, `"#o"`) ||
				strings.Contains(body, `"#l"`) || strings.Contains(body, "Organization/") || !strings.Contains(body, `"Doe"`) || strings.Contains(body, "REDACTED") {
				t.Errorf("org-b: %d %s; want 200 without the contained chain and the member", resp.StatusCode, body)
			}
			resp, body = h.get("/fhir/Patient/p1", tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"#r"`) || !strings.Contains(body, "addiction") {
				t.Errorf("consented: %d %s", resp.StatusCode, body)
			}
		})
	}
	ordinary := patient(role + "," + dept("Organization/h1"))
	h := newHarness(t, patientWithDirectory(entries, ordinary), withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != ordinary {
		t.Errorf("an ordinary hospital's contained chain: %d %s", resp.StatusCode, body)
	}
}
