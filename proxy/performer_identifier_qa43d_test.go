package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestObservationPerformerByDirectoryIdentifierQA43D (QA round 43, helper
// D; B-5/F-2 of round 42): an Observation whose performer names the
// program's department u1, or its role r1, by identifier alone
// ({"identifier":{...}}, no reference) went to org-b, who has no consent,
// as ordinary data (200); only the program's own NPI was read so. The
// entry is found by a search of the directory by that identifier: 404 to
// org-b, labelled Part 2 for the consented caller; an ordinary unit's
// identifier stays ordinary.
func TestObservationPerformerByDirectoryIdentifierQA43D(t *testing.T) {
	t.Parallel()
	obs := func(id, performer string) string {
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"blood pressure"},"performer":[` + performer + `]}`
	}
	u := &qa43dUpstream{reads: map[string]string{
		"Observation/o1": obs("o1", qa43dIdent(qa43dDeptSys, qa43dDeptVal)),
		"Observation/o2": obs("o2", qa43dIdent(qa43dRoleSys, qa43dRoleVal)),
		"Observation/o9": obs("o9", qa43dIdent(qa43dHospSys, qa43dHospVal)),
		"Observation/o3": obs("o3", `{"reference":"Organization/h0","identifier":{"system":"`+qa43dDeptSys+`","value":"other-9"}}`),
		"Observation/o4": obs("o4", qa43dIdent(qa43dDeptSys, "paged")),
	}}
	h := newHarness(t, u.handler, withProgram)
	for _, id := range []string{"o1", "o2"} {
		if resp, body := h.get("/fhir/Observation/"+id, tokOther); resp.StatusCode != http.StatusNotFound {
			t.Errorf("org-b, Observation/%s performed by the program's entry by identifier: %d %s, want 404", id, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/Observation/"+id, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
			t.Errorf("consented, Observation/%s: %d %s, want 200 labelled 42CFRPart2", id, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Observation/o9", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "42CFRPart2") {
		t.Errorf("org-b, an ordinary unit's identifier: %d %s, want 200 unlabelled", resp.StatusCode, body)
	}
	// A reference beside the identifier names the entry: nothing searched.
	u.mu.Lock()
	before := len(u.searches)
	u.mu.Unlock()
	if resp, body := h.get("/fhir/Observation/o3", tokOther); resp.StatusCode != http.StatusOK {
		t.Errorf("org-b, performer by reference and identifier: %d %s, want 200", resp.StatusCode, body)
	}
	u.mu.Lock()
	if len(u.searches) != before {
		t.Errorf("performer by reference and identifier: searched %v", u.searches[before:])
	}
	u.mu.Unlock()
	// An answer with more matches than one page shows: withheld.
	if resp, body := h.get("/fhir/Observation/o4", tokConsented); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("a search answered with a next page: %d %s, want 502", resp.StatusCode, body)
	}
	// A site without programs reads nothing more.
	u2 := &qa43dUpstream{reads: u.reads}
	h2 := newHarness(t, u2.handler)
	if resp, body := h2.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusOK {
		t.Errorf("no programs: %d %s", resp.StatusCode, body)
	}
	if len(u2.searches) > 0 {
		t.Errorf("no programs: searched %v", u2.searches)
	}
}
