package proxy

import (
	"strings"
	"testing"
)

// QA round 35, area A: Patient/$summary of a patient with an SUD
// condition among others. The Problems section named it beside the
// ordinary conditions, and its reference labelled the section SUD; a
// Composition whose every section was so labelled was SUD whole, and the
// document was withheld: the payer and org-b read 404 for the summary
// while the Patient read 200, which told that something was withheld.
// Now a section labelled only by its references to the document's own
// entries is cut alone, as when another section stays ordinary, whether
// or not one does: the summary answers 200 without the section, its
// ordinary conditions still entries of the document.
func TestSummarySectionNamesWithheldEntryQA35A(t *testing.T) {
	t.Parallel()
	cond := func(id, code string) string {
		return `{"fullUrl":"urn:uuid:` + id + `","resource":{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `"}]}}}`
	}
	div := func(s string) string {
		return `"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + s + `</div>"}`
	}
	for name, c := range map[string]struct {
		sections string
		keep     []string // what the payer reads
		gone     []string // what it must not
	}{
		"one section": {
			`{"title":"Problems",` + div("Hypertension; Opioid use disorder; Asthma") + `,"entry":[{"reference":"urn:uuid:c1"},{"reference":"urn:uuid:a1"},{"reference":"urn:uuid:c2"}]}`,
			[]string{`"resourceType":"Composition"`, `"title":"Patient Summary"`, `"code":"I10"`, `"code":"J45"`},
			[]string{"a1", "F11.20", "Opioid", "Hypertension"},
		},
		"a section of the withheld entry alone": {
			`{"title":"Problems","entry":[{"reference":"urn:uuid:c1"},{"reference":"urn:uuid:c2"}]},{"title":"Substance use",` + div("Opioid use disorder") + `,"entry":[{"reference":"urn:uuid:a1"}]}`,
			[]string{`"title":"Problems"`, `"reference":"urn:uuid:c1"`, `"reference":"urn:uuid:c2"`},
			[]string{"a1", "F11.20", "Opioid", "Substance use"},
		},
	} {
		doc := `{"resourceType":"Bundle","id":"ips1","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
			`{"fullUrl":"urn:uuid:comp1","resource":{"resourceType":"Composition","id":"comp1","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"server"}],"title":"Patient Summary","section":[` + c.sections + `]}},` +
			cond("c1", "I10") + `,` + cond("a1", "F11.20") + `,` + cond("c2", "J45") + `]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Patient/p1/$summary": doc, "/fhir/R4/Patient/p1": `{"resourceType":"Patient","id":"p1"}`}))
		for _, tok := range []string{qa35aPayer, tokOther} {
			if resp, _ := h.get("/fhir/Patient/p1", tok); resp.StatusCode != 200 {
				t.Fatalf("%s: the Patient reads %d", name, resp.StatusCode)
			}
			resp, body := h.get("/fhir/Patient/p1/$summary", tok)
			if resp.StatusCode != 200 {
				t.Errorf("%s, %s: $summary %d while the Patient reads 200: %s", name, tok, resp.StatusCode, body)
				continue
			}
			for _, k := range c.keep {
				if !strings.Contains(body, k) {
					t.Errorf("%s, %s: %s is missing: %s", name, tok, k, body)
				}
			}
			for _, g := range c.gone {
				if strings.Contains(body, g) {
					t.Errorf("%s, %s: %s went: %s", name, tok, g, body)
				}
			}
		}
		// the consented caller reads the whole document
		resp, body := h.get("/fhir/Patient/p1/$summary", tokConsented)
		if resp.StatusCode != 200 || !strings.Contains(body, "urn:uuid:a1") || !strings.Contains(body, "F11.20") || !strings.Contains(body, "Opioid") {
			t.Errorf("%s: org-a: %d %s", name, resp.StatusCode, body)
		}
	}
}
