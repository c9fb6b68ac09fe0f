package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A MolecularSequence, genetic information by what it is and holding no
// code that says so, is labelled GDIS by the shipped rules' type rule
// (gdis-molecular-sequence): withheld from a payer as if absent, read by
// org-a, whom the consent permits. It went to the payer as ordinary data.
func TestMolecularSequenceWithheldFromPayer(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/fhir/R4/MolecularSequence/s1": `{"resourceType":"MolecularSequence","id":"s1","type":"dna","coordinateSystem":0,"patient":{"reference":"Patient/p1"},"referenceSeq":{"genomeBuild":"GRCh38","chromosome":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"17"}]}},"variant":[{"start":43044294,"end":43044295,"observedAllele":"T","referenceAllele":"G"}]}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	r1, b1 := h.get("/fhir/MolecularSequence/s1", tokPayer)
	r2, b2 := h.get("/fhir/MolecularSequence/zz1", tokPayer)
	if r1.StatusCode != http.StatusNotFound || r2.StatusCode != http.StatusNotFound || strings.ReplaceAll(b1, "s1", "X") != strings.ReplaceAll(b2, "zz1", "X") {
		t.Errorf("for the payer: %d %s; a missing one: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if resp, body := h.get("/fhir/MolecularSequence/s1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"GDIS"`) {
		t.Errorf("for org-a: %d %s, want it labelled GDIS", resp.StatusCode, body)
	}
}
