package proxy

import (
	"strings"
	"testing"
)

// TestCopiesDoNotStandForTheServersQA35D (QA round 35, found by area D,
// fixed by area E: labels.Result.CopyIn, ContainedIn): within one
// response, a reference by Type/id found a contained resource with that
// local id, or a copy inside a nested Bundle, in the batch index, and the
// server's resource was never read. A search of
// orders whose page also holds an Observation containing a Condition with
// id sud1 and no SUD code (or a document holding a copy of sud1) sent
// org-b the order whose reason is the server's opioid use disorder
// Condition/sud1 (200, sud1 read 0 times).
func TestCopiesDoNotStandForTheServersQA35D(t *testing.T) {
	t.Parallel()
	copyOf := `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"subject":{"reference":"Patient/p1"}}`
	for name, other := range map[string]string{
		"contained": `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"contained":[` + copyOf + `]}`,
		"nested":    `{"resourceType":"Bundle","id":"b3","type":"document","entry":[{"fullUrl":"urn:uuid:1","resource":` + copyOf + `}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := newRouted(map[string]string{
				"Condition/sud1": sudCondition,
				"MedicationRequest": `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/MedicationRequest/mr1","resource":` +
					orderFor("mr1", "Condition/sud1") + `},{"fullUrl":"http://x/o","resource":` + other + `}]}`,
			})
			h := newHarness(t, up.handle, withCache)
			resp, out := h.get("/fhir/MedicationRequest?_count=10", tokOther)
			if strings.Contains(out, `"id":"mr1"`) {
				t.Fatalf("org-b got the order of an opioid use disorder: %d, Condition/sud1 read %d times", resp.StatusCode, up.readsOf("Condition/sud1"))
			}
		})
	}
}
