package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientEnrolmentByDirectoryEntryQA41A (QA round 41, helper A, on
// bcfa337; proposal, not fixed): a Patient whose managingOrganization is a
// department partOf the Part 2 program, or whose generalPractitioner is the
// program's PractitionerRole, says the person is the program's patient as
// much as one naming Organization/p2 does (cut for org-b,
// TestPatientEnrolmentInAPart2Program); bcfa337 reads such entries for
// records, not for the Patient's enrolment members.
func TestPatientEnrolmentByDirectoryEntryQA41A(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],` +
		`"generalPractitioner":[{"reference":"PractitionerRole/r1"}],"managingOrganization":{"reference":"Organization/u1"}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r1"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"PractitionerRole","id":"r1","organization":{"reference":"Organization/p2"}}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Organization/u1"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"u1","name":"Detox unit","partOf":{"reference":"Organization/p2"}}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Organization/p2"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
		default:
			fhirJSONHandler(http.StatusOK, pat)(w, r)
		}
	}, withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	if strings.Contains(body, "Organization/u1") || strings.Contains(body, "PractitionerRole/r1") {
		t.Errorf("org-b read p1's enrolment through the program's directory entries: %d %s", resp.StatusCode, body)
	}
}
