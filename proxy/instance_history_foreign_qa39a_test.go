package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestInstanceHistoryHoldsItsVersionsOnlyQA39A: the history of one
// resource is answered after its current version was read and decided
// (guardInstance), and its versions are judged on their own. A server
// answering Condition/c1/_history (as a history or, as 3572a23 found of a
// type's history, a searchset) with an older version of Condition/sud1
// beside c1's, ordinary then and SUD now, gave it to org-b (200), which
// may not read sud1, and so did Condition/c1/_history/1 answered with
// sud1's older version alone. Only c1's versions are answered (a vread
// answered with another resource's as for a missing version); org-a,
// which may read sud1, gets nothing of sud1 there either.
func TestInstanceHistoryHoldsItsVersionsOnlyQA39A(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	c1 := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"text":"back"}}`
	for _, typ := range []string{"history", "searchset"} {
		h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"`+typ+`","entry":[{"resource":`+c1+`,"request":{"method":"PUT","url":"Condition/c1"}},`+
				`{"resource":`+old+`,"request":{"method":"PUT","url":"Condition/sud1"}}]}`)(w, r)
		}, map[string]string{"Condition/sud1": sudCondition, "Condition/c1": c1}))
		for _, tok := range []string{tokOther, tokConsented} {
			resp, body := h.get("/fhir/Condition/c1/_history", tok)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"c1"`) || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") {
				t.Errorf("Condition/c1/_history answered as %s holding sud1's older version: %d %.600s", typ, resp.StatusCode, body)
			}
		}
	}
	// So is a vread answered with another resource's version: as missing.
	h := newHarness(t, currentReads(fhirJSONHandler(200, old), map[string]string{"Condition/sud1": sudCondition, "Condition/c1": c1}))
	for _, tok := range []string{tokOther, tokConsented} {
		resp, body := h.get("/fhir/Condition/c1/_history/1", tok)
		if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("Condition", "c1")) {
			t.Errorf("Condition/c1/_history/1 answered with sud1's older version: %d %.600s", resp.StatusCode, body)
		}
	}
}

// TestBundleHistoryHoldsItsVersionsOnlyQA39A: so for a stored Bundle,
// whose versions are judged by its current version's labels
// (guardStoredBundle): Bundle/b1/_history/1 answered with Bundle/b2's
// first version, or Bundle/b1/_history holding it, gave org-b b2's
// Condition "Opioid use disorder", which b2's own history withholds (b2
// labelled R since). b2's version is withheld whole in a history, and its
// entries in a vread.
func TestBundleHistoryHoldsItsVersionsOnlyQA39A(t *testing.T) {
	t.Parallel()
	b2v1 := strings.ReplaceAll(qa36eDoc("b2", "collection", `{"versionId":"1"}`, false), `c1`, `c0`)
	b2v2 := qa36eDoc("b2", "collection", `{"versionId":"2","security":[`+qa36eR+`]}`, false)
	b1 := `{"resourceType":"Bundle","id":"b1","meta":{"versionId":"1"},"type":"collection","entry":[{"fullUrl":"urn:uuid:x","resource":` + bpObs + `}]}`
	h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_history") {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","entry":[{"resource":`+b1+`},{"resource":`+b2v1+`}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, b2v1)(w, r)
	}, map[string]string{"Bundle/b1": b1, "Bundle/b2": b2v2}))
	for _, p := range []string{"/fhir/Bundle/b1/_history/1", "/fhir/Bundle/b1/_history"} {
		resp, body := h.get(p, tokOther)
		if strings.Contains(body, "Opioid") || strings.Contains(body, `"c0"`) {
			t.Errorf("org-b %s answered with b2's version: %d %.600s", p, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Bundle/b1/_history", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"bp1"`) {
		t.Errorf("org-b Bundle/b1/_history lost b1's own version: %d %.600s", resp.StatusCode, body)
	}
}
