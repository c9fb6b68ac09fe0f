package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientContainedRoleAtProgramServiceQA43A (QA round 43, helper A, on
// a1e0ecd and e268dd5): a Patient whose generalPractitioner is a contained
// PractitionerRole (#r) whose healthcareService is the Part 2 program's
// HealthcareService (s1 providedBy p2), or a service of its department
// (s2 providedBy u1, u1 partOf p2), went to org-b whole (200): a1e0ecd
// made a role's healthcareService a parent link for the labeller, but the
// Patient's contained entry was judged by organization, partOf,
// managingOrganization, providedBy and location alone (containedParent).
// The entry and the member naming it are cut now, silently; a consented
// caller gets them; a role at an ordinary hospital's service stays.
func TestPatientContainedRoleAtProgramServiceQA43A(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/Organization/u1":      `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/p2":      `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
		"/Organization/h1":      `{"resourceType":"Organization","id":"h1","name":"General"}`,
		"/HealthcareService/s1": `{"resourceType":"HealthcareService","id":"s1","providedBy":{"reference":"Organization/p2"}}`,
		"/HealthcareService/s2": `{"resourceType":"HealthcareService","id":"s2","providedBy":{"reference":"Organization/u1"}}`,
		"/HealthcareService/s3": `{"resourceType":"HealthcareService","id":"s3","providedBy":{"reference":"Organization/h1"}}`,
	}
	role := func(service string) string {
		return `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[{"resourceType":"PractitionerRole","id":"r",` +
			`"healthcareService":[{"reference":"HealthcareService/` + service + `"}]}],"generalPractitioner":[{"reference":"#r"}]}`
	}
	for _, service := range []string{"s1", "s2"} {
		t.Run(service, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, patientWithDirectory(entries, role(service)), withProgram)
			resp, body := h.get("/fhir/Patient/p1", tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, `"#r"`) || strings.Contains(body, "HealthcareService/") ||
				!strings.Contains(body, `"Doe"`) || strings.Contains(body, "REDACTED") {
				t.Errorf("org-b: %d %s; want 200 without the role and the member", resp.StatusCode, body)
			}
			resp, body = h.get("/fhir/Patient/p1", tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"#r"`) {
				t.Errorf("consented: %d %s", resp.StatusCode, body)
			}
		})
	}
	ordinary := role("s3")
	h := newHarness(t, patientWithDirectory(entries, ordinary), withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != ordinary {
		t.Errorf("an ordinary hospital service's contained role: %d %s", resp.StatusCode, body)
	}
}
