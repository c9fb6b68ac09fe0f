package proxy

import (
	"strings"
	"testing"
)

// QA round 33, area G, on d9a51fc: cutDocumentSections cut only a
// section's entry naming a withheld entry. A disclosed Composition whose
// section's focus, or whose event's detail or relatesTo, named the
// withheld SUD Condition by its urn:uuid kept that reference to an entry
// the Bundle no longer held (a tell that it was withheld) and kept the
// section's narrative ("Opioid use disorder") for org-b (200). Since
// references by urn:uuid propagate, an event's detail or a relatesTo
// naming it makes the Composition SUD, and the document is withheld.
func TestDocumentOtherReferencesWithheldQA33G(t *testing.T) {
	t.Parallel()
	doc := func(extraComp, extraSec string) string {
		return `{"resourceType":"Bundle","id":"ips1","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
			`{"fullUrl":"urn:uuid:comp1","resource":{"resourceType":"Composition","id":"comp1","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"server"}],"title":"Patient Summary"` + extraComp + `,` +
			`"section":[{"title":"Problems","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Opioid use disorder</div>"}` + extraSec + `},{"title":"Allergies","entry":[{"reference":"urn:uuid:a1"}]}]}},` +
			`{"fullUrl":"urn:uuid:a1","resource":{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"}}},` +
			`{"fullUrl":"urn:uuid:cond1","resource":` + sudCondition + `}]}`
	}
	for name, c := range map[string][2]string{
		"section focus":  {"", `,"focus":{"reference":"urn:uuid:cond1"}`},
		"section author": {"", `,"author":[{"reference":"urn:uuid:cond1"}]`},
		"event detail":   {`,"event":[{"detail":[{"reference":"urn:uuid:cond1"}]}]`, ""},
		"relatesTo":      {`,"relatesTo":[{"code":"appends","targetReference":{"reference":"urn:uuid:cond1"}}]`, ""},
	} {
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Patient/p1/$summary": doc(c[0], c[1]), "/fhir/R4/Patient/p1": `{"resourceType":"Patient","id":"p1"}`}))
		resp, body := h.get("/fhir/Patient/p1/$summary", tokOther)
		if strings.Contains(body, "Opioid") || strings.Contains(body, "cond1") || strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		// A section's references cut the section's part of the
		// Composition; an event's detail or a relatesTo naming the SUD
		// Condition (by its urn:uuid, as by Condition/sud1) makes the
		// whole Composition SUD, and the document is withheld with it.
		if whole := c[0] != ""; whole != (resp.StatusCode == 404) || !whole && !strings.Contains(body, "urn:uuid:a1") {
			t.Errorf("%s: %d %s, want the document withheld: %v", name, resp.StatusCode, body, whole)
		}
	}
}
