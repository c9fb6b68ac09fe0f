package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCopiesDoNotReferTheServersDrugQA35H: a drug naming no patient (a
// buprenorphine Medication) takes the patients of the disclosed records of
// the response that name it (decideReferred; labels referrerPatients).
// A copy inside a stored Bundle (a collection read in the same batch,
// perhaps made up) is not the server's record: naming Medication/bup, it
// made the server's Medication/bup p1's, and p1's consented clinician got
// a drug that, read beside nothing naming it, is no patient's and
// withheld. A copy names a patient to the resources of its own Bundle only.
func TestCopiesDoNotReferTheServersDrugQA35H(t *testing.T) {
	t.Parallel()
	const (
		bup    = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
		copyMR = `{"resourceType":"MedicationRequest","id":"mrx","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
		plain  = `{"resourceType":"Observation","id":"ox","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`
	)
	coll := func(res string) string {
		return `{"resourceType":"Bundle","id":"c1","type":"collection","entry":[{"fullUrl":"http://x/` + "R/1" + `","resource":` + res + `}]}`
	}
	get := func(inColl, more string) (int, string) {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+
				`{"resource":`+bup+`,"response":{"status":"200 OK"}},`+
				`{"resource":`+coll(inColl)+`,"response":{"status":"200 OK"}}`+more+`]}`)(w, r)
		})
		req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Medication/bup"}},{"request":{"method":"GET","url":"Bundle/c1"}}]}`
		resp, body := h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", req)
		return resp.StatusCode, body
	}
	// p2's order (p2 has no consent): withheld, so it gives the drug no
	// patient (decideReferred), but makes it a referred one in the labeller.
	const mr2 = `,{"resource":{"resourceType":"MedicationRequest","id":"mr2","status":"active","intent":"order","subject":{"reference":"Patient/p2"},"medicationReference":{"reference":"Medication/bup"}},"response":{"status":"200 OK"}}`
	for _, more := range []string{"", mr2} {
		st, alone := get(plain, more)
		if st != 200 || strings.Contains(alone, `"id":"bup"`) || strings.Contains(alone, `"id":"mr2"`) {
			t.Fatalf("the drug beside nothing disclosed naming it: %d %s", st, alone)
		}
		st, body := get(copyMR, more)
		if st != 200 || strings.Contains(body, `"id":"bup"`) || strings.Contains(body, `"id":"mr2"`) {
			t.Fatalf("a copy in a collection made the server's drug p1's (p2's order there: %v): %d %s", more != "", st, body)
		}
	}
}
