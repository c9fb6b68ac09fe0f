package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientContainedPractitionerOfProgramRoleQA43G (QA round 43, helper
// G, on f26610e): a Patient whose generalPractitioner is a contained
// PractitionerRole #r at the program's department (Organization/u1, partOf
// p2) naming a contained Practitioner #p went to org-b with #r and the
// member cut but #p ("Counsellor") kept, named by nothing: no stored
// Patient has a contained resource nothing names (dom-3), so the orphan
// told a cut, and it named who treats the patient at the program. #p goes
// with #r now; one the Patient still names (generalPractitioner #p too)
// stays, and so does a contained entry nothing named to begin with; the
// consented caller gets both.
func TestPatientContainedPractitionerOfProgramRoleQA43G(t *testing.T) {
	t.Parallel()
	const role = `{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/u1"},"practitioner":{"reference":"#p"}}`
	const prac = `{"resourceType":"Practitioner","id":"p","name":[{"family":"Counsellor"}]}`
	patient := func(contained, gp string) string {
		return `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[` + contained + `],"generalPractitioner":[` + gp + `]}`
	}
	upstream := func(pat string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/Organization/u1"):
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`)(w, r)
			case strings.HasSuffix(r.URL.Path, "/Organization/p2"):
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
			case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
				fhirJSONHandler(http.StatusOK, pat)(w, r)
			default:
				fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			}
		}
	}
	pat := patient(role+","+prac, `{"reference":"#r"}`)
	h := newHarness(t, upstream(pat), withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "Counsellor") ||
		strings.Contains(body, `"contained"`) || !strings.Contains(body, `"Doe"`) {
		t.Errorf("org-b: %d %s; want 200 without #r and #p", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Patient/p1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Counsellor") || !strings.Contains(body, `"#r"`) {
		t.Errorf("consented: %d %s", resp.StatusCode, body)
	}
	// Named by the Patient too: #p stays, #r goes.
	pat = patient(role+","+prac, `{"reference":"#r"},{"reference":"#p"}`)
	h = newHarness(t, upstream(pat), withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Counsellor") ||
		!strings.Contains(body, `"#p"`) || strings.Contains(body, `"#r"`) || strings.Contains(body, "Organization/u1") {
		t.Errorf("org-b, #p named by the Patient: %d %s", resp.StatusCode, body)
	}
	// An ordinary role: the body is served as stored.
	ord := strings.Replace(patient(role+","+prac, `{"reference":"#r"}`), "Organization/u1", "Organization/h9", 1)
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Organization/h9") {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"h9"}`)(w, r)
			return
		}
		upstream(ord)(w, r)
	}, withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != ord {
		t.Errorf("ordinary: %d %s", resp.StatusCode, body)
	}
}
