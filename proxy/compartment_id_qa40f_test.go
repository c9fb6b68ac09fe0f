package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientCompartmentIDProgramQA40F: Medplum matches _compartment (and
// _project, over the same meta.compartment) by the id after a value's last
// slash alone (search.ts buildIdSearchFilter: the type before it is
// dropped), so Patient?_compartment=Patient/<the Part 2 program's id>,
// organization/<it>, a URL ending in it, or _project=<it> list the
// program's patients as _compartment=Organization/<it> does, which
// f91d5da refuses. They went upstream (200 with the Patients). Refused
// alike (403, before the upstream); a _compartment naming another id
// still passes.
func TestPatientCompartmentIDProgramQA40F(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`
	h := newHarness(t, fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`), withProgram)
	for _, q := range []string{
		"/fhir/Patient?_compartment=Patient/p2",
		"/fhir/Patient?_compartment=organization/p2",
		"/fhir/Patient?_compartment=https://other.example/fhir/Anything/p2",
		"/fhir/Patient?_compartment:Patient=p2",
		"/fhir/Patient?_compartment=Patient/p9,Patient/p2",
		"/fhir/Patient?_project=p2",
		"/fhir/Patient?_project=Organization/p2",
		"/fhir/Patient?name=Doe&_sort=_project",
		"/fhir/?_type=Patient&_compartment=Group/p2",
	} {
		resp, body := h.get(q, tokOther)
		forwarded := false
		for h.forwarded() {
			forwarded = true
		}
		if resp.StatusCode != http.StatusForbidden || forwarded || strings.Contains(body, `"Doe"`) {
			t.Errorf("%s: %d (forwarded %v) %s; want 403, nothing forwarded", q, resp.StatusCode, forwarded, body)
		}
	}
	for _, q := range []string{"/fhir/Patient?_compartment=Patient/p1", "/fhir/Patient?_compartment=Organization/p9", "/fhir/Observation?_compartment=Patient/p2"} {
		resp, body := h.get(q, tokOther)
		forwarded := false
		for h.forwarded() {
			forwarded = true
		}
		if resp.StatusCode != http.StatusOK || !forwarded {
			t.Errorf("%s: %d (forwarded %v) %s; want it forwarded", q, resp.StatusCode, forwarded, body)
		}
	}
}
