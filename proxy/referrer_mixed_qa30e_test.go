package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestReferredDrugAnswerIgnoresWithheldReferrersQA30E: a buprenorphine
// Medication (SUD by its RxNorm code, naming no patient) takes the
// patients of the records of the batch naming it (7418108). A withheld
// record of another patient must not change the answer about the drug:
// withheld and absent look alike. The consented clinician of p1 searches
// the orders of the drug with the drug included; the upstream answers
// p1's order and p2's (p2 has no consent, so p2's order is withheld). The
// answer must be the one the clinician gets when p2's order does not
// exist: p1's order with its drug. Before, the drug was decided under p1's
// and p2's consents, p2's denied it, and its absence told the clinician
// that some patient they may not see has a buprenorphine order. The same
// holds when the drug is the match and the orders are revincluded.
func TestReferredDrugAnswerIgnoresWithheldReferrersQA30E(t *testing.T) {
	t.Parallel()
	const (
		bup = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
		mr1 = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
		mr2 = `{"resourceType":"MedicationRequest","id":"mr2","status":"active","intent":"order","subject":{"reference":"Patient/p2"},"medicationReference":{"reference":"Medication/bup"}}`
	)
	withInclude := func(b, res, mode string) string {
		return b[:len(b)-2] + `,{"resource":` + res + `,"search":{"mode":"` + mode + `"}}]}`
	}
	for _, withP2 := range []bool{false, true} {
		handler := func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/MedicationRequest"):
				res := []string{mr1}
				if withP2 {
					res = append(res, mr2)
				}
				fhirJSONHandler(200, withInclude(bundle(h0base(r), -1, false, res...), bup, "include"))(w, r)
			case strings.HasSuffix(r.URL.Path, "/Medication"):
				b := withInclude(bundle(h0base(r), -1, false, bup), mr1, "include")
				if withP2 {
					b = withInclude(b, mr2, "include")
				}
				fhirJSONHandler(200, b)(w, r)
			default:
				fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			}
		}
		h := newHarness(t, handler)
		for _, q := range []string{
			"/fhir/MedicationRequest?medication=Medication/bup&_include=MedicationRequest:medication",
			"/fhir/Medication?_revinclude=MedicationRequest:medication",
		} {
			resp, body := h.get(q, tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"mr1"`) || strings.Contains(body, `"id":"mr2"`) {
				t.Fatalf("p2's order there %v, %s: %d %s", withP2, q, resp.StatusCode, body)
			}
			if !strings.Contains(body, `"id":"bup"`) {
				t.Errorf("p2's order there %v, %s: the drug of p1's order is withheld, telling of a withheld order naming it: %s", withP2, q, body)
			}
		}
	}
}
