package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestRecordVersionAtProgramDepartmentQA43F (QA round 43, helper F, on
// ec630de): an Observation whose encounter is Encounter/e1/_history/2,
// e1 then at the Part 2 program's department (serviceProvider
// Organization/u1, u1 partOf the program p2) and since moved to an
// ordinary hospital, went to org-b whole (200): ec630de follows the
// references of a directory entry's version only, so the Encounter as it
// was stood for nothing. 404 to org-b now, labelled Part 2 for a
// consented caller; asked twice, as the first answer must not leave the
// version noted as ordinary.
func TestRecordVersionAtProgramDepartmentQA43F(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/Observation/o1":          `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"blood pressure"},"encounter":{"reference":"Encounter/e1/_history/2"}}`,
		"/Encounter/e1/_history/2": `{"resourceType":"Encounter","id":"e1","meta":{"versionId":"2"},"status":"finished","class":{"code":"AMB"},"serviceProvider":{"reference":"Organization/u1"}}`,
		"/Encounter/e1":            `{"resourceType":"Encounter","id":"e1","meta":{"versionId":"3"},"status":"finished","class":{"code":"AMB"},"serviceProvider":{"reference":"Organization/h1"}}`,
		"/Organization/u1":         `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/h1":         `{"resourceType":"Organization","id":"h1"}`,
		"/Organization/p2":         `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
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
			t.Errorf("%s: org-b, Observation in the program's department's encounter as it was: %d %s, want 404", round, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("consented, the same: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
}
