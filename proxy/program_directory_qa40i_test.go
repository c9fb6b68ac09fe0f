package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestProgramRoleWithheldQA40I (QA round 40, area I): an Observation whose
// performer is a PractitionerRole of the Part 2 program (its organization
// is Organization/p2, the program's one configured reference) went to
// org-b, whom p1's consent does not permit, as ordinary data (200), telling
// it that p1 is treated by the program. The role is read from the server;
// the consented caller still reads the record, labelled; a role at another
// organization leaves it ordinary.
func TestProgramRoleWithheldQA40I(t *testing.T) {
	t.Parallel()
	obs := func(id, role string) string {
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"blood pressure"},"performer":[{"reference":"PractitionerRole/` + role + `"}]}`
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r1"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/p2"}}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r9"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"PractitionerRole","id":"r9","practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/h9"}}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Organization/p2"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
		case strings.Contains(r.URL.Path, "/Organization/"):
			// A role's organization is read for what it stands for (QA
			// round 42, area F): the hospital's answers as itself.
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"h9","name":"General"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Observation/o9"):
			fhirJSONHandler(http.StatusOK, obs("o9", "r9"))(w, r)
		default:
			fhirJSONHandler(http.StatusOK, obs("o1", "r1"))(w, r)
		}
	}, withProgram)
	if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "42CFRPart2") {
		t.Errorf("consented: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o9", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(string(body), "42CFRPart2") {
		t.Errorf("org-b, another organization's role: %d %s, want 200 unlabelled", resp.StatusCode, body)
	}
}
