package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestDrugGoesWithItsOrders: a buprenorphine Medication (SUD by its RxNorm
// code, naming no patient) included beside the patient's order is decided
// under that patient's consents, as the order is: the consented clinician
// gets both, another organisation neither. Before, with no patient, no
// consent could disclose it: the consented clinician got the order without
// its drug. Read alone it is still no patient's, and withheld.
func TestDrugGoesWithItsOrders(t *testing.T) {
	t.Parallel()
	const (
		bup = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
		mr  = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
	)
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/MedicationRequest"):
			b := bundle(h0base(r), -1, false, mr)
			b = b[:len(b)-2] + `,{"resource":` + bup + `,"search":{"mode":"include"}}]}`
			fhirJSONHandler(200, b)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Medication/bup"):
			fhirJSONHandler(200, bup)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}
	h := newHarness(t, handler)
	const q = "/fhir/MedicationRequest?patient=p1&_include=MedicationRequest:medication"
	resp, body := h.get(q, tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"mr1"`) || !strings.Contains(body, `"id":"bup"`) {
		t.Fatalf("consented clinician: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get(q, tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"id":"mr1"`) || strings.Contains(body, `"id":"bup"`) {
		t.Fatalf("organisation without consent: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Medication/bup", tokConsented); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the drug read alone: %d %s", resp.StatusCode, body)
	}
}
