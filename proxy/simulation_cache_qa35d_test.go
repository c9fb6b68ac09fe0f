package proxy

import (
	"net/http"
	"testing"
)

// TestSimulationLeavesLabelCacheQA35D: the inline resources of a policy
// simulation are the policy author's, not the server's, and the label
// cache must not take them for the server's. QA round 35, area D: a
// what-if of Condition/sud1 labelled N (a made-up version of the server's
// opioid use disorder) was noted in the cache as the server's, known, so
// the next order naming Condition/sud1 as its reason was labelled from the
// cache without reading it and went to org-b as ordinary (200). Where the
// cache already knew the Condition, a simulation of it without labels
// erased what it knew, and one with N then took its place.
func TestSimulationLeavesLabelCacheQA35D(t *testing.T) {
	t.Parallel()
	const author = "Organization/ops||ds4p/policy-author"
	simulate := func(h *harness, resource string) {
		t.Helper()
		body := `{"caller":{"org":"Organization/org-b","purposes":["TREAT"]},"resources":[` + resource + `],"consents":[]}`
		if resp, out := h.post("/admin/decide", author, body); resp.StatusCode != http.StatusOK {
			t.Fatalf("simulation: %d %s", resp.StatusCode, out)
		}
	}
	const (
		ordinary  = `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3"},"subject":{"reference":"Patient/p1"},"code":{"text":"follow-up"}}`
		labelledN = `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"subject":{"reference":"Patient/p1"}}`
	)
	for _, tc := range []struct {
		name       string
		cacheFirst bool // the cache knows the server's Condition/sud1 before the simulations
		sims       []string
	}{
		{"unknown to the cache", false, []string{labelledN}},
		{"known to the cache", true, []string{ordinary, labelledN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := newRouted(map[string]string{
				"MedicationRequest/mr1": orderFor("mr1", "Condition/sud1"),
				"MedicationRequest/mr2": orderFor("mr2", "Condition/sud1"),
				"Condition/sud1":        sudCondition,
			})
			h := newHarness(t, up.handle, withCache)
			if tc.cacheFirst {
				if resp, out := h.get("/fhir/MedicationRequest/mr2", tokOther); resp.StatusCode != http.StatusNotFound {
					t.Fatalf("before the simulations: %d %s", resp.StatusCode, out)
				}
			}
			for _, r := range tc.sims {
				simulate(h, r)
			}
			resp, out := h.get("/fhir/MedicationRequest/mr1", tokOther)
			if resp.StatusCode != http.StatusNotFound || out != string(notFoundBody("MedicationRequest", "mr1")) {
				t.Fatalf("org-b read the order of an opioid use disorder after a simulation: %d %s", resp.StatusCode, out)
			}
		})
	}
}
