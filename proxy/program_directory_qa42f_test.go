package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestProgramDirectoryTwoHopsQA42F (QA round 42, area F): the program p2's
// unit u2 is partOf its department u1, partOf p2; r2 is a role at the
// unit. An Observation performed by r2 went to org-b (no consent) as
// ordinary data (200), a Patient managed by u2 kept it (its enrolment),
// and Patient?organization=Organization/u2 listed the program's patients:
// only an entry naming the program itself stood for it. Now the chain is
// followed: 404, the member cut, the search refused; the consented caller
// reads the Observation labelled; an ordinary hospital's unit stays.
func TestProgramDirectoryTwoHopsQA42F(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/PractitionerRole/r2": `{"resourceType":"PractitionerRole","id":"r2","organization":{"reference":"Organization/u2"}}`,
		"/Organization/u2":     `{"resourceType":"Organization","id":"u2","name":"Night unit","partOf":{"reference":"Organization/u1"}}`,
		"/Organization/u1":     `{"resourceType":"Organization","id":"u1","name":"Detox","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/p2":     `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
		"/PractitionerRole/r9": `{"resourceType":"PractitionerRole","id":"r9","organization":{"reference":"Organization/h2"}}`,
		"/Organization/h2":     `{"resourceType":"Organization","id":"h2","partOf":{"reference":"Organization/h1"}}`,
		"/Organization/h1":     `{"resourceType":"Organization","id":"h1","name":"General"}`,
		"/Observation/o1": `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"blood pressure"},"performer":[{"reference":"PractitionerRole/r2"}]}`,
		"/Observation/o9": `{"resourceType":"Observation","id":"o9","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"blood pressure"},"performer":[{"reference":"PractitionerRole/r9"}]}`,
		"/Patient/p1": `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/u2"}}`,
		"/Patient":    `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`,
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		for k, v := range entries {
			if strings.HasSuffix(r.URL.Path, k) {
				fhirJSONHandler(http.StatusOK, v)(w, r)
				return
			}
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}, withProgram)
	if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b, Observation by the unit's role: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("consented: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o9", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "42CFRPart2") {
		t.Errorf("org-b, an ordinary hospital's unit: %d %s, want 200 unlabelled", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "Organization/u2") || !strings.Contains(body, `"Doe"`) {
		t.Errorf("org-b, Patient managed by the unit: %d %s, want 200 without Organization/u2", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Patient?organization=Organization/u2", tokOther); resp.StatusCode != http.StatusForbidden {
		t.Errorf("org-b, Patient?organization=Organization/u2: %d %s, want 403", resp.StatusCode, body)
	}
}
