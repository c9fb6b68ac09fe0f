package proxy

import (
	"strings"
	"testing"
)

// TestDocumentFrameTitleNotDisclosedQA35F: a document whose Composition's
// every section is labelled by its references to a withheld entry of the
// document is withheld whole, since what is left of the Composition (its
// title, free text) may name the diagnosis. QA round 35, area F, on
// 9ef7fa9, which cut such sections alone and sent the frame: org-b read
// the title "Opioid use disorder treatment summary" (200). 9ef7fa9 is
// reverted; the $summary tell it closed (404 while the Patient reads 200)
// is open again.
func TestDocumentFrameTitleNotDisclosedQA35F(t *testing.T) {
	t.Parallel()
	cond := func(id, code string) string {
		return `{"fullUrl":"urn:uuid:` + id + `","resource":{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `"}]}}}`
	}
	doc := `{"resourceType":"Bundle","id":"d1","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
		`{"fullUrl":"urn:uuid:comp1","resource":{"resourceType":"Composition","id":"comp1","status":"final","type":{"text":"summary"},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"clinic"}],` +
		`"title":"Opioid use disorder treatment summary","section":[{"title":"Problems","entry":[{"reference":"urn:uuid:c1"},{"reference":"urn:uuid:a1"}]}]}},` +
		cond("c1", "I10") + `,` + cond("a1", "F11.20") + `]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/d1": doc}))
	for _, tok := range []string{tokOther} {
		resp, body := h.get("/fhir/Bundle/d1", tok)
		if strings.Contains(body, "Opioid") || strings.Contains(body, "F11.20") || resp.StatusCode != 404 {
			t.Errorf("%s: %d %s, want the document withheld (404)", tok, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Bundle/d1", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, "Opioid use disorder treatment summary") {
		t.Errorf("org-a, consented: %d %s", resp.StatusCode, body)
	}
}
