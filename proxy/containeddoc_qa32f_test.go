package proxy

import (
	"net/http"
	"testing"
)

// TestContainedDocumentLabelsWithheldQA32F: a List holding, contained, a
// DocumentReference its EHR labelled PSYTHPN with the note inline went to
// a payer and to org-b as ordinary data: the contained document's own
// label was read only as a coding for the rules (QA round 32, area F, on
// cc38417). It is withheld from them now, as the same DocumentReference
// read alone is.
func TestContainedDocumentLabelsWithheldQA32F(t *testing.T) {
	t.Parallel()
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	list := `{"resourceType":"List","id":"l1","status":"current","mode":"working","subject":{"reference":"Patient/p1"},` +
		`"contained":[{"resourceType":"DocumentReference","id":"d","status":"current","securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}]}],` +
		`"content":[{"attachment":{"contentType":"text/plain","data":"U2Vzc2lvbiBub3Rlcw=="}}]}],"entry":[{"item":{"reference":"#d"}}]}`
	h := newHarness(t, newRouted(map[string]string{"List/l1": list}).handle)
	for _, tok := range []string{tokPayer, tokOther} {
		if resp, body := h.get("/fhir/List/l1", tok); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s read the List holding a note labelled PSYTHPN: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
}
