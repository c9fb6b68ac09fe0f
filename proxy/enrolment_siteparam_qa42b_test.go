package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPatientSearchBySiteParamQA42B (QA round 42, area B): a reference
// parameter of Patient the site declares (enforcement.search_params, here
// treated-at over an extension naming where the person is treated) selects
// patients by the program as organization= does: Patient?treated-at=
// Organization/p2 (the program itself), its bare id, or the program's
// Location l1 were forwarded (200) where organization=Organization/p2 is
// refused. Refused alike now (403, the same answer); an ordinary target,
// and a declared parameter that names no directory type, go through.
func TestPatientSearchBySiteParamQA42B(t *testing.T) {
	t.Parallel()
	bundle := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"match"}}]}`
	var mu sync.Mutex
	h := newHarness(t, qa41iDirectory(bundle, map[string]int{}, &mu, false), withProgram, func(o *Options, _ *Deps) {
		o.Requests.SearchParams = []SearchParam{
			{Resource: "Patient", Code: "treated-at", Type: "reference", Targets: []string{"Location", "Organization"}},
			{Resource: "Resource", Code: "owner", Type: "reference"},
			{Resource: "Patient", Code: "carer", Type: "reference", Targets: []string{"RelatedPerson"}},
		}
	})
	for _, path := range []string{
		"/fhir/Patient?treated-at=Organization/p2",
		"/fhir/Patient?treated-at=p2",
		"/fhir/Patient?treated-at=Location/l1",
		"/fhir/Patient?treated-at=l1",
		"/fhir/Patient?treated-at:missing=false",
		"/fhir/Patient?owner=Organization/u1",
		"/fhir/Patient?owner=PractitionerRole/r1",
		"/fhir?_type=Patient&treated-at=Organization/p2",
	} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") || strings.Contains(body, `"p1"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/fhir/Patient?treated-at=Organization/general", "/fhir/Patient?owner=PractitionerRole/r9", "/fhir/Patient?carer:missing=false"} {
		if resp, body := h.get(path, tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"p1"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}
