package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestDocumentBundleCompositionWithheldQA33D: a document Bundle whose
// Composition is withheld (marked R, or PSYTHPN: a psychotherapy note)
// lost the Composition alone. The Observation of its section, coded as
// nothing sensitive but the note's content, went to the payer and org-b
// (200), in a document Bundle without a Composition, which itself tells
// that one was withheld. Read by id, such a document is now missing
// (404); in a search of Bundles its entry goes whole, and total with it.
// org-a, whom the consent permits, reads the R document whole; an
// ordinary document goes to the payer whole.
func TestDocumentBundleCompositionWithheldQA33D(t *testing.T) {
	t.Parallel()
	doc := func(id, compMeta, conf string) string {
		return `{"resourceType":"Bundle","id":"` + id + `","type":"document","identifier":{"system":"urn:x","value":"` + id + `"},"timestamp":"2026-01-01T00:00:00Z","entry":[` +
			`{"fullUrl":"urn:uuid:c-` + id + `","resource":{"resourceType":"Composition","id":"c-` + id + `",` + compMeta + `"status":"final","confidentiality":"` + conf + `","type":{"text":"note"},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"x"}],"title":"t","section":[{"title":"s","entry":[{"reference":"urn:uuid:o-` + id + `"}]}]}},` +
			`{"fullUrl":"urn:uuid:o-` + id + `","resource":{"resourceType":"Observation","id":"o-` + id + `","status":"final","code":{"text":"mood"},"subject":{"reference":"Patient/p1"},"valueString":"session notes: discussed relapse"}}]}`
	}
	restricted := doc("b1", "", "R")
	psy := doc("b2", `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}]},`, "N")
	ordinary := doc("b3", "", "N")
	search := `{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"fullUrl":"http://up/Bundle/b1","resource":` + restricted + `},{"fullUrl":"http://up/Bundle/b3","resource":` + ordinary + `}]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": restricted, "/fhir/R4/Bundle/b2": psy, "/fhir/R4/Bundle/b3": ordinary, "/fhir/R4/Bundle": search}))
	for _, tok := range []string{qa32bPayer, tokOther} {
		for _, id := range []string{"b1", "b2"} {
			if resp, body := h.get("/fhir/Bundle/"+id, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("Bundle/%s for %s: %d %s, want 404", id, tok, resp.StatusCode, body)
			}
		}
		resp, body := h.get("/fhir/Bundle?type=document", tok)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `"b1"`) || strings.Contains(body, "o-b1") || strings.Contains(body, `"total":2`) || !strings.Contains(body, "o-b3") {
			t.Errorf("a search for %s: %d %s", tok, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Bundle/b1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "c-b1") || !strings.Contains(body, "o-b1") {
		t.Errorf("Bundle/b1 for org-a: %d %s, want it whole", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Bundle/b3", qa32bPayer); resp.StatusCode != http.StatusOK || !strings.Contains(body, "c-b3") || !strings.Contains(body, "o-b3") {
		t.Errorf("an ordinary document for the payer: %d %s, want it whole", resp.StatusCode, body)
	}
}
