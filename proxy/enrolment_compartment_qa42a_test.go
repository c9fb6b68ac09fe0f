package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPatientCompartmentByDirectoryEntryQA42A (QA round 42, helpers A and B, on
// 2c17892): Medplum's Patient?_compartment=<id> (and _project) lists the
// Patients a resource of that id owns (meta.account, meta.compartment);
// Patient?_compartment=<the program> is refused (QA round 40), and
// 2c17892 refuses organization=Organization/u1 (a department partOf the
// program), but skipped _compartment and _project: _compartment=u1 listed
// the department's patients, the program's (200). Refused now in every
// spelling Medplum reads by the id alone; an ordinary entry's id passes,
// and a site without programs reads nothing.
func TestPatientCompartmentByDirectoryEntryQA42A(t *testing.T) {
	t.Parallel()
	bundle := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`
	var mu sync.Mutex
	dir := qa41iDirectory(bundle, map[string]int{}, &mu, false)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/HealthcareService/") {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		dir(w, r)
	}, withProgram)
	for _, path := range []string{
		"/fhir/Patient?_compartment=u1",
		"/fhir/Patient?_compartment=Organization/u1",
		"/fhir/Patient?_compartment=Patient/u1",
		"/fhir/Patient?_compartment:Patient=u1",
		"/fhir/Patient?_compartment=https://other.example/Any/u1",
		"/fhir/Patient?_project=u1",
		"/fhir/Patient?_compartment=r1",
		"/fhir/Patient?_compartment=general,r1",
		"/fhir/Patient?_compartment=l1",
		"/fhir?_type=Patient&_compartment=u1",
	} {
		resp, body := h.get(path, tokConsented)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// In a batch too (helper B's case).
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient?_compartment=u1"}}]}`
	if resp, body := h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", batch); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
		t.Errorf("in a batch: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/fhir/Patient?_compartment=general", "/fhir/Patient?_compartment=r9", "/fhir/Observation?_compartment=u1"} {
		if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	none := map[string]int{}
	h2 := newHarness(t, qa41iDirectory(bundle, none, &mu, false))
	if resp, body := h2.get("/fhir/Patient?_compartment=u1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("no programs: %d %s", resp.StatusCode, body)
	}
	mu.Lock()
	if len(none) != 0 {
		t.Errorf("a site without programs read %v", none)
	}
	mu.Unlock()
}
