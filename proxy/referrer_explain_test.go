package proxy

import (
	"encoding/json"
	"testing"
)

// TestDecideSimulationDecidesADrugAsTheResponseDoes: POST /admin/decide
// decides a drug of no patient (a buprenorphine Medication) as the
// response pipeline does: under the patients of the records it discloses
// that name it. Decided under every referrer's patient, the simulation
// withheld it where a response disclosed it (p2's order withheld, p1's
// disclosed), telling the policy author something the proxy does not do.
func TestDecideSimulationDecidesADrugAsTheResponseDoes(t *testing.T) {
	t.Parallel()
	const (
		bup = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
		mr1 = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
		mr2 = `{"resourceType":"MedicationRequest","id":"mr2","status":"active","intent":"order","subject":{"reference":"Patient/p2"},"medicationReference":{"reference":"Medication/bup"}}`
	)
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	resp, body := h.post("/admin/decide", tokAdmin, decideBody("Organization/org-a", "TREAT", "", "", mr1, mr2, bup))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got DecideResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Items) != 3 {
		t.Fatalf("%v %s", err, body)
	}
	want := []string{"permit", "deny", "permit"}
	for i, it := range got.Items {
		if it.Decision.Effect != want[i] {
			t.Errorf("item %d (%s/%s): %s, want %s", i, it.Type, it.ID, it.Decision.Effect, want[i])
		}
	}
	if got.Items[2].Patient != "Patient/p1" {
		t.Errorf("the drug decided as %q's, want Patient/p1's (the disclosed order's)", got.Items[2].Patient)
	}
}
