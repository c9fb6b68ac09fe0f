package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPatientEnrolmentContainedDirectoryQA42A (QA round 42, helper A, next
// to 2c17892): a Patient whose generalPractitioner is a contained
// PractitionerRole of the Part 2 program (organization Organization/p2,
// referenced as #r), or whose managingOrganization is a contained
// department partOf it, names the program as one naming Organization/p2
// does; both went to org-b whole (200), telling that the person is the
// program's patient (42 CFR 2.13(c)). The contained entry and the member
// naming it are cut, silently; a consented caller gets them; a contained
// role of an ordinary hospital stays.
func TestPatientEnrolmentContainedDirectoryQA42A(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	for _, tc := range []struct{ name, pat string }{
		{"role", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/p2"}}],"generalPractitioner":[{"reference":"#r"}]}`},
		{"department", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":[{"resourceType":"Organization","id":"r","partOf":{"reference":"Organization/p2"}}],"managingOrganization":{"reference":"#r"}}`},
		{"site", `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"contained":{"resourceType":"Location","id":"r","managingOrganization":{"reference":"Organization/p2"}},"extension":[{"url":"http://example.org/treated-at","valueReference":{"reference":"#r"}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, qa41iDirectory(tc.pat, map[string]int{}, &mu, false), withProgram)
			resp, body := h.get("/fhir/Patient/p1", tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, "p2") || strings.Contains(body, `"#r"`) ||
				!strings.Contains(body, `"Doe"`) || strings.Contains(body, "REDACTED") {
				t.Errorf("org-b: %d %s", resp.StatusCode, body)
			}
			resp, body = h.get("/fhir/Patient/p1", tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Organization/p2") || !strings.Contains(body, `"#r"`) {
				t.Errorf("consented: %d %s", resp.StatusCode, body)
			}
		})
	}
	ordinary := `{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/general"}}],"generalPractitioner":[{"reference":"#r"}]}`
	h := newHarness(t, qa41iDirectory(ordinary, map[string]int{}, &mu, false), withProgram)
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != ordinary {
		t.Errorf("an ordinary contained role: %d %s", resp.StatusCode, body)
	}
}
