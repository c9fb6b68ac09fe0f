package proxy

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestSequenceInJSONAttachmentWithheldFromPayerQA31D: a DocumentReference
// whose attachment is a FHIR JSON MolecularSequence went whole to a payer:
// the attachment is read for codes (859828a) and a sequence holds none,
// while the type rule (43275a4) labelled only a sequence read as a
// resource or contained. The sequence in the data is the patient's genetic
// information all the same: it is withheld from the payer, and org-a,
// whom the consent permits, reads it.
func TestSequenceInJSONAttachmentWithheldFromPayerQA31D(t *testing.T) {
	t.Parallel()
	seq := `{"resourceType":"MolecularSequence","id":"s1","type":"dna","coordinateSystem":0,"patient":{"reference":"Patient/p1"},"variant":[{"start":43044294,"end":43044295,"observedAllele":"T","referenceAllele":"G"}]}`
	bodies := map[string]string{
		"/fhir/R4/DocumentReference/d1": `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte(seq)) + `"}}]}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	if resp, body := h.get("/fhir/DocumentReference/d1", tokPayer); resp.StatusCode == 200 && strings.Contains(body, base64.StdEncoding.EncodeToString([]byte(seq))[:20]) {
		t.Errorf("for the payer: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/DocumentReference/d1", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, `"code":"GDIS"`) {
		t.Errorf("for org-a: %d %s, want it labelled GDIS", resp.StatusCode, body)
	}
}
