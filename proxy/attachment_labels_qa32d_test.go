package proxy

import (
	"encoding/base64"
	"net/http"
	"testing"
)

// TestAttachedDocumentLabelsWithheldQA32D: a DocumentReference whose
// attachment is a C-CDA psychotherapy note its EHR marked V (the header's
// confidentialityCode), narrative alone, went to a payer and to org-b as
// ordinary data: the document's own label was read only as a coding for
// the rules. It is withheld from them now, as the same note labelled V in
// the DocumentReference's securityLabel is (cc38417).
func TestAttachedDocumentLabelsWithheldQA32D(t *testing.T) {
	t.Parallel()
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	note := `<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="11506-3" codeSystem="2.16.840.1.113883.6.1"/>` +
		`<confidentialityCode code="V" codeSystem="2.16.840.1.113883.5.25"/>` +
		`<component><nonXMLBody><text>Session notes</text></nonXMLBody></component></ClinicalDocument>`
	doc := `{"resourceType":"DocumentReference","id":"note1","status":"current","subject":{"reference":"Patient/p1"},` +
		`"content":[{"attachment":{"contentType":"application/xml","data":"` + base64.StdEncoding.EncodeToString([]byte(note)) + `"}}]}`
	h := newHarness(t, newRouted(map[string]string{"DocumentReference/note1": doc}).handle)
	for _, tok := range []string{tokPayer, tokOther} {
		if resp, body := h.get("/fhir/DocumentReference/note1", tok); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s read the note its EHR marked V: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
}
