package proxy

import (
	"strings"
	"testing"
)

// TestCopiesURLStayInTheirDocumentQA35E: an entry's fullUrl names its
// resource within its own Bundle only. A search of Bundles answering two
// documents that both use urn:uuid:1 (the first for its opioid use
// disorder Condition, named as its order's reason and by its Composition's
// Problems section; the second for an ordinary Condition) took the second
// document's entry for the first's references: the order took no labels
// from its reason, and org-b got the order of an opioid use disorder
// (200), with the Condition itself withheld.
func TestCopiesURLStayInTheirDocumentQA35E(t *testing.T) {
	t.Parallel()
	comp := func(id, section string) string {
		return `{"resourceType":"Composition","id":"` + id + `","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"server"}],"title":"Summary","section":[` + section + `]}`
	}
	docA := `{"resourceType":"Bundle","id":"da","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
		`{"fullUrl":"urn:uuid:ca","resource":` + comp("ca", `{"title":"Problems","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Opioid use disorder</div>"},"entry":[{"reference":"urn:uuid:1"}]},{"title":"Allergies","entry":[{"reference":"urn:uuid:a1"}]}`) + `},` +
		`{"fullUrl":"urn:uuid:1","resource":` + sudCondition + `},` +
		`{"fullUrl":"urn:uuid:m1","resource":` + orderFor("mr1", "urn:uuid:1") + `},` +
		`{"fullUrl":"urn:uuid:a1","resource":{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"}}}]}`
	docB := `{"resourceType":"Bundle","id":"db","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
		`{"fullUrl":"urn:uuid:cb","resource":` + comp("cb", `{"title":"Notes","entry":[{"reference":"urn:uuid:1"}]}`) + `},` +
		`{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},"code":{"text":"cold"}}}]}`
	up := newRouted(map[string]string{
		"Bundle": `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/Bundle/da","resource":` + docA + `},{"fullUrl":"http://x/Bundle/db","resource":` + docB + `}]}`,
	})
	h := newHarness(t, up.handle)
	resp, out := h.get("/fhir/Bundle?type=document", tokOther)
	if strings.Contains(out, "Opioid") || strings.Contains(out, "F11.20") || strings.Contains(out, `"mr1"`) {
		t.Fatalf("org-b got the order or section of an opioid use disorder: %d %s", resp.StatusCode, out)
	}
	if resp.StatusCode != 200 || !strings.Contains(out, "urn:uuid:a1") || !strings.Contains(out, "cold") {
		t.Fatalf("want both documents, without the SUD section and Condition: %d %s", resp.StatusCode, out)
	}
}
