package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientContainedEntryOfProgramDepartmentQA42G (QA round 42, helper G,
// next to b196784 and beb1940): a Patient whose generalPractitioner is a
// contained PractitionerRole (#r) at Organization/u1, a department partOf
// the Part 2 program p2 (or at u2, a unit partOf u1, or at the program's
// site), or whose managingOrganization is a contained unit partOf u2, went
// to org-b whole (200): the contained entry was labelled alone, knowing
// only an entry naming p2 itself. The Patient names the program (42 CFR
// 2.13(c)): the entry and the member naming it are cut, silently; a
// consented caller gets them; an ordinary hospital's unit stays.
func TestPatientContainedEntryOfProgramDepartmentQA42G(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/Organization/u2": `{"resourceType":"Organization","id":"u2","partOf":{"reference":"Organization/u1"}}`,
		"/Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/p2": `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
		"/Location/l1":     `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/u1"}}`,
		"/Organization/h2": `{"resourceType":"Organization","id":"h2","partOf":{"reference":"Organization/h1"}}`,
		"/Organization/h1": `{"resourceType":"Organization","id":"h1","name":"General"}`,
	}
	role := func(member string) string {
		return `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[{"resourceType":"PractitionerRole","id":"r",` +
			member + `}],"generalPractitioner":[{"reference":"#r"}]}`
	}
	for _, tc := range []struct{ name, pat string }{
		{"role at the department", role(`"organization":{"reference":"Organization/u1"}`)},
		{"role at a unit two hops down", role(`"organization":{"reference":"Organization/u2"}`)},
		{"role at the program's site", role(`"location":[{"reference":"Location/l1"}]`)},
		{"unit partOf a unit", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[{"resourceType":"Organization","id":"r","partOf":{"reference":"Organization/u2"}}],"managingOrganization":{"reference":"#r"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, patientWithDirectory(entries, tc.pat), withProgram)
			resp, body := h.get("/fhir/Patient/p1", tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, `"#r"`) || strings.Contains(body, "Organization/u") ||
				strings.Contains(body, "Location/l1") || !strings.Contains(body, `"Doe"`) || strings.Contains(body, "REDACTED") {
				t.Errorf("org-b: %d %s", resp.StatusCode, body)
			}
			resp, body = h.get("/fhir/Patient/p1", tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"#r"`) {
				t.Errorf("consented: %d %s", resp.StatusCode, body)
			}
		})
	}
	ordinary := role(`"organization":{"reference":"Organization/h2"}`)
	h := newHarness(t, patientWithDirectory(entries, ordinary), withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != ordinary {
		t.Errorf("an ordinary hospital unit's contained role: %d %s", resp.StatusCode, body)
	}
}

// patientWithDirectory is an upstream answering Patient/p1 with pat and
// the directory entries by the end of their path, anything else 404.
func patientWithDirectory(entries map[string]string, pat string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range entries {
			if strings.HasSuffix(r.URL.Path, k) {
				fhirJSONHandler(http.StatusOK, v)(w, r)
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, "/Patient/p1") {
			fhirJSONHandler(http.StatusOK, pat)(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}
}
