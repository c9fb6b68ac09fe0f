package proxy

import (
	"net/http"
	"testing"
)

// TestCopiesLeaveLabelCacheQA35D: a contained resource (whose id is local
// to its container) and a resource inside a stored Bundle (a document, a
// collection: a copy, perhaps of an older version) are not the server's
// Type/id, and the label cache must not take them for it. QA round 35,
// area D (open, no fix yet): a contained Condition with id sud1, or a
// stored Bundle's copy of Condition/sud1 without its SUD code, read by
// anyone, was noted as the server's Condition/sud1, known; the next order
// naming Condition/sud1 as its reason took N from the cache without
// reading it and went to org-b as ordinary (200).
func TestCopiesLeaveLabelCacheQA35D(t *testing.T) {
	t.Parallel()
	copyOf := `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"subject":{"reference":"Patient/p1"}}`
	for name, holder := range map[string][2]string{
		"contained":         {"Observation/o1", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"contained":[` + copyOf + `]}`},
		"stored collection": {"Bundle/b1", `{"resourceType":"Bundle","id":"b1","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":` + copyOf + `}]}`},
		"stored document":   {"Bundle/b2", `{"resourceType":"Bundle","id":"b2","type":"document","entry":[{"fullUrl":"urn:uuid:1","resource":` + copyOf + `}]}`},
		"searched document": {"Bundle", `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/Bundle/b3","resource":` +
			`{"resourceType":"Bundle","id":"b3","type":"document","entry":[{"fullUrl":"urn:uuid:1","resource":` + copyOf + `}]}}]}`},
		"contained in a search": {"Observation", `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/Observation/o2","resource":` +
			`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"contained":[` + copyOf + `]}}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := newRouted(map[string]string{
				"MedicationRequest/mr1": orderFor("mr1", "Condition/sud1"),
				"Condition/sud1":        sudCondition,
				holder[0]:               holder[1],
			})
			h := newHarness(t, up.handle, withCache)
			if resp, out := h.get("/fhir/"+holder[0]+"?_count=10", tokOther); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %.200s", holder[0], resp.StatusCode, out)
			}
			resp, out := h.get("/fhir/MedicationRequest/mr1", tokOther)
			if resp.StatusCode != http.StatusNotFound || out != string(notFoundBody("MedicationRequest", "mr1")) {
				t.Fatalf("org-b read the order of an opioid use disorder after reading %s: %d %.200s", holder[0], resp.StatusCode, out)
			}
		})
	}
}
