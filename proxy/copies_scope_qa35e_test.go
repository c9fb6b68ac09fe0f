package proxy

import (
	"strings"
	"testing"
)

// TestCopiesStayInTheirDocumentQA35E: a copy inside one stored document
// stands for its Type/id only within that document. A search of Bundles
// answering two documents, the first holding a copy of Condition/sud1
// without its SUD code and the second a Composition whose section names
// Condition/sud1 (not among its entries), took the first document's copy
// for the second's reference: the server's Condition/sud1 (opioid use
// disorder) was never read, and org-b got the section ("Opioid plan").
// Within each document, its Composition still takes its own entries'
// labels (TestDocumentOtherReferencesWithheldQA33G).
func TestCopiesStayInTheirDocumentQA35E(t *testing.T) {
	t.Parallel()
	copyOf := `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3"},"subject":{"reference":"Patient/p1"}}`
	comp := func(id, section string) string {
		return `{"resourceType":"Composition","id":"` + id + `","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"server"}],"title":"Summary","section":[` + section + `]}`
	}
	docA := `{"resourceType":"Bundle","id":"da","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
		`{"fullUrl":"urn:uuid:ca","resource":` + comp("ca", `{"title":"Notes","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Seen</div>"}}`) + `},` +
		`{"fullUrl":"urn:uuid:s1","resource":` + copyOf + `}]}`
	docB := `{"resourceType":"Bundle","id":"db","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
		`{"fullUrl":"urn:uuid:cb","resource":` + comp("cb", `{"title":"Problems","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Opioid plan</div>"},"entry":[{"reference":"Condition/sud1"}]},{"title":"Allergies","entry":[{"reference":"urn:uuid:a1"}]}`) + `},` +
		`{"fullUrl":"urn:uuid:a1","resource":{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"}}}]}`
	up := newRouted(map[string]string{
		"Condition/sud1": sudCondition,
		"Bundle":         `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/Bundle/da","resource":` + docA + `},{"fullUrl":"http://x/Bundle/db","resource":` + docB + `}]}`,
	})
	h := newHarness(t, up.handle)
	resp, out := h.get("/fhir/Bundle?type=document", tokOther)
	if strings.Contains(out, "Opioid") || strings.Contains(out, `"Condition/sud1"`) {
		t.Fatalf("org-b got document db's section naming the server's opioid use disorder: %d, Condition/sud1 read %d times: %s", resp.StatusCode, up.readsOf("Condition/sud1"), out)
	}
	if resp.StatusCode != 200 || !strings.Contains(out, "urn:uuid:a1") {
		t.Fatalf("want the documents with db's other section: %d %s", resp.StatusCode, out)
	}
}
