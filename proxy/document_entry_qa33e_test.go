package proxy

import (
	"strings"
	"testing"
)

// QA round 33, area E, on bf901ab: a document whose Composition is
// permitted but whose section's entry is withheld (an SUD Observation)
// went without that entry (200), and its section still named it by a
// urn:uuid reference no entry answered: the document told that an entry
// was withheld. Now the section's entry and its narrative are cut.
func TestDocumentEntryWithheldQA33E(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(qa33eDoc("b5", "", "N", true), `"code":{"text":"mood"}`,
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`, 1)
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b5": doc}))
	_, body := h.get("/fhir/Bundle/b5", tokOther)
	if strings.Contains(body, "F11.20") || strings.Contains(body, "relapse") {
		t.Errorf("the SUD entry went: %s", body)
	}
	if strings.Contains(body, "o-b5") {
		t.Errorf("the Composition names the withheld entry (urn:uuid:o-b5) that is not in the Bundle: %s", body)
	}
}

// QA round 33, area E, on bf901ab: Patient/$summary (an IPS document the
// server builds) of a patient with an SUD condition. Its Composition,
// coded as nothing sensitive, lists the problem in its section's
// narrative and names the Condition's entry; the Condition alone was
// withheld, and the section told the payer and org-b what it was and
// that it had been withheld (200). Now the section's entry and its
// narrative are cut (cutDocumentSections).
func TestSummaryDocumentEntryWithheldQA33E(t *testing.T) {
	t.Parallel()
	ips := `{"resourceType":"Bundle","id":"ips1","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
		`{"fullUrl":"urn:uuid:comp1","resource":{"resourceType":"Composition","id":"comp1","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"server"}],"title":"Patient Summary",` +
		`"section":[{"title":"Problems","code":{"coding":[{"system":"http://loinc.org","code":"11450-4"}]},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Opioid use disorder, on buprenorphine</div>"},"entry":[{"reference":"urn:uuid:cond1"}]}]}},` +
		`{"fullUrl":"urn:uuid:cond1","resource":` + sudCondition + `}]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Patient/p1/$summary": ips, "/fhir/R4/Patient/p1": `{"resourceType":"Patient","id":"p1"}`}))
	for _, tok := range []string{qa32bPayer, tokOther} {
		resp, body := h.get("/fhir/Patient/p1/$summary", tok)
		if strings.Contains(body, "F11.20") || strings.Contains(body, "buprenorphine") || strings.Contains(body, "cond1") {
			t.Errorf("$summary for %s: %d %s", tok, resp.StatusCode, body)
		}
	}
}
