package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEverythingWithholdsTheProgramsDepartmentQA41K (QA round 41, area K,
// on I-1): Patient/p1/$everything of a Patient managed by a department
// partOf the Part 2 program (Organization/u1) and treated by its role
// (PractitionerRole/r1): I-1 cuts those members for org-b, but the answer
// kept u1 and r1, each naming Organization/p2, beside the cut Patient,
// which says what the cut hid (as the program's own Organization would,
// which is withheld there). Withheld beside the cut Patient; an ordinary
// role stays; a consented caller gets them.
func TestEverythingWithholdsTheProgramsDepartmentQA41K(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/u1"},` +
		`"generalPractitioner":[{"reference":"PractitionerRole/r9"},{"reference":"PractitionerRole/r1"}]}`
	u1 := `{"resourceType":"Organization","id":"u1","name":"Detox unit","partOf":{"reference":"Organization/p2"}}`
	r1 := `{"resourceType":"PractitionerRole","id":"r1","organization":{"reference":"Organization/p2"}}`
	r9 := `{"resourceType":"PractitionerRole","id":"r9","organization":{"reference":"Organization/general"}}`
	everything := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + pat + `},{"resource":` + u1 + `},{"resource":` + r1 + `},{"resource":` + r9 + `}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/$everything"):
			fhirJSONHandler(200, everything)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, pat)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Organization/u1"):
			fhirJSONHandler(200, u1)(w, r)
		case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r1"):
			fhirJSONHandler(200, r1)(w, r)
		case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r9"):
			fhirJSONHandler(200, r9)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}, withProgram)
	resp, body := h.get("/fhir/Patient/p1/$everything", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"id":"u1"`) || strings.Contains(body, `"id":"r1"`) ||
		strings.Contains(body, "Organization/p2") || !strings.Contains(body, `"id":"r9"`) || !strings.Contains(body, `"id":"p1"`) {
		t.Fatalf("org-b: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Patient/p1/$everything", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"u1"`) || !strings.Contains(body, `"id":"r1"`) {
		t.Fatalf("consented: %d %s", resp.StatusCode, body)
	}
}
