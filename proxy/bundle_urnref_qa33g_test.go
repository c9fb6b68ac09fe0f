package proxy

import (
	"strings"
	"testing"
)

// QA round 33, area G (found, not fixed): the labeller's propagation
// resolves a reference to another entry of the same Bundle by Type/id
// only, not by the entry's fullUrl. A MedicationStatement whose
// reasonReference names the SUD Condition as Condition/sud1 takes its
// labels and is withheld with it; named as urn:uuid:cond1 (the form of
// documents, transactions and $summary) it went to org-b (200), its
// reason the SUD Condition, and by a reference no entry answered.
func TestBundleReferenceByFullURLPropagatesQA33G(t *testing.T) {
	t.Parallel()
	// The Condition's fullUrl also with an escape, as JSON readers decode it.
	for _, c := range [][2]string{{"document", `urn:uuid:cond1`}, {"collection", `urn:uuid:cond1`}, {"document", `urn\u003auuid:cond1`}} {
		typ := c[0]
		doc := `{"resourceType":"Bundle","id":"ips1","type":"` + typ + `","timestamp":"2026-01-01T00:00:00Z","entry":[` +
			`{"fullUrl":"urn:uuid:ms1","resource":{"resourceType":"MedicationStatement","id":"ms1","status":"active","medicationCodeableConcept":{"text":"vitamin D"},"subject":{"reference":"Patient/p1"},"reasonReference":[{"reference":"urn:uuid:cond1"}]}},` +
			`{"fullUrl":"` + c[1] + `","resource":` + sudCondition + `}]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/ips1": doc}))
		resp, body := h.get("/fhir/Bundle/ips1", tokOther)
		if strings.Contains(body, "ms1") || strings.Contains(body, "cond1") {
			t.Errorf("%s: the MedicationStatement whose reason is the withheld SUD Condition went: %d %s", typ, resp.StatusCode, body)
		}
	}
}
