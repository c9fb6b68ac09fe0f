package proxy

import (
	"strings"
	"testing"
)

// TestProgramRoleByFullURLInBundleQA41A (QA round 41, helper A, on
// bcfa337): a stored document or collection whose Observation names its
// performer, the Part 2 program's PractitionerRole (organization
// Organization/p2), by the role's entry fullUrl (urn:uuid, the form of
// documents) went to org-b with the Observation (200): only a reference
// written Type/id was read as a directory link. Named PractitionerRole/r1
// it is withheld.
func TestProgramRoleByFullURLInBundleQA41A(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"urn:uuid:role1", "PractitionerRole/r1"} {
		doc := `{"resourceType":"Bundle","id":"b1","type":"collection","entry":[` +
			`{"fullUrl":"urn:uuid:obs1","resource":{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"urine drug screen"},"performer":[{"reference":"` + ref + `"}]}},` +
			`{"fullUrl":"urn:uuid:role1","resource":{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/p2"}}}]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": doc,
			"/fhir/R4/Organization/p2": `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`}), withProgram)
		resp, body := h.get("/fhir/Bundle/b1", tokOther)
		if strings.Contains(body, "urine drug screen") {
			t.Errorf("performer %s: org-b read the program's Observation: %d %s", ref, resp.StatusCode, body)
		}
	}
}
