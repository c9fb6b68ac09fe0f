package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientCompartmentParamProgramQA40D: Medplum searches every type by
// _compartment, a reference parameter over meta.compartment, which holds
// the organisations that own a resource (meta.account, meta.accounts) and
// matches a bare id against any type's (Organization/p2 for p2).
// Patient?_compartment=Organization/<the Part 2 program> therefore answers
// the program's patient list, as Patient?organization=<the program> or
// Organization/<the program>/Patient would, which are refused: Patients
// are never withheld. It went to the upstream and its Patients to org-b.
// Refused alike (403, before the upstream) by reference, bare id, modifier
// and as a sort key, on a Patient search and on a system search that may
// answer Patients; a _compartment naming another resource still passes.
// Medplum reads _compartment and _project by the id after a value's last
// slash alone (search.ts buildIdSearchFilter), so Patient/<the program's
// id>, a URL ending in it and _project=<it> list the same patients.
func TestPatientCompartmentParamProgramQA40D(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`
	search := fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		for _, typ := range []string{"/Organization/", "/PractitionerRole/", "/Location/", "/HealthcareService/"} {
			if strings.Contains(r.URL.Path, typ) {
				// A read of an id a _compartment names, as a directory
				// entry (QA round 42, helper A): none exists.
				fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
				return
			}
		}
		search(w, r)
	}, withProgram)
	for _, q := range []string{
		"/fhir/Patient?_compartment=Organization/p2",
		"/fhir/Patient?_compartment=p2",
		"/fhir/Patient?_compartment:Organization=p2",
		"/fhir/Patient?_compartment:missing=false",
		"/fhir/Patient?name=Doe&_sort=_compartment",
		"/fhir/?_type=Patient&_compartment=Organization/p2",
		"/fhir/?_compartment=Organization/p2",
		// Medplum matches both by the id after the last slash alone (QA round
		// 40, area F).
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
	for _, q := range []string{"/fhir/Patient?_compartment=Patient/p1", "/fhir/Observation?_compartment=Organization/p2", "/fhir/Patient?_compartment=Organization/p9", "/fhir/Observation?_compartment=Patient/p2"} {
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
