package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestDirectoryVersionAtProgramDepartmentQA43A (QA round 43, helper A, on
// beb1940): an Observation performed by PractitionerRole/r1/_history/2,
// when r1 was at the Part 2 program's department (Organization/u1 partOf
// Organization/p2), went to org-b whole (200) once r1 moved to an ordinary
// hospital: the version was read, but not its department's parent; and a
// Patient naming that version kept it. 404 to org-b now, labelled Part 2
// for a consented caller, the Patient's member cut; asked twice, as the
// first answer must not leave the version noted as ordinary.
func TestDirectoryVersionAtProgramDepartmentQA43A(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/Observation/o1":                 `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"blood pressure"},"performer":[{"reference":"PractitionerRole/r1/_history/2"}]}`,
		"/Patient/p1":                     `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"generalPractitioner":[{"reference":"PractitionerRole/r1/_history/2"}]}`,
		"/PractitionerRole/r1/_history/2": `{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"2"},"organization":{"reference":"Organization/u1"}}`,
		"/PractitionerRole/r1":            `{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"3"},"organization":{"reference":"Organization/h1"}}`,
		"/Organization/u1":                `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/h1":                `{"resourceType":"Organization","id":"h1"}`,
		"/Organization/p2":                `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if v, ok := entries[strings.TrimPrefix(r.URL.Path, "/fhir/R4")]; ok {
			fhirJSONHandler(http.StatusOK, v)(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}, withProgram)
	for _, round := range []string{"first", "repeat"} {
		if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "blood pressure") {
			t.Errorf("%s: org-b, Observation by the program's department's role as it was: %d %s, want 404", round, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "PractitionerRole/r1") || !strings.Contains(body, `"Doe"`) {
			t.Errorf("%s: org-b, Patient naming that role: %d %s, want 200 without it", round, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("consented, the same: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
}
