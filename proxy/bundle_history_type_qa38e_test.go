package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBundleHistoryOfAnyTypeJudgedQA38E: the versions in the answer to a
// stored Bundle's instance history take its current version's labels
// whatever type the answer's Bundle says it is. After 0edb896 only a
// Bundle of type history did: a server answering GET Bundle/b1/_history
// with a searchset, a collection or a batch-response gave org-b the
// Condition ("Opioid use disorder") of v1, stored unlabelled, which the
// read of b1 (labelled R since) withholds. org-a still gets it.
func TestBundleHistoryOfAnyTypeJudgedQA38E(t *testing.T) {
	t.Parallel()
	v1 := strings.ReplaceAll(qa36eDoc("b1", "collection", `{"versionId":"1"}`, false), `c1`, `c0`)
	v2 := qa36eDoc("b1", "collection", `{"versionId":"2","security":[`+qa36eR+`]}`, false)
	for _, typ := range []string{"history", "searchset", "collection", "batch-response"} {
		hist := `{"resourceType":"Bundle","type":"` + typ + `","entry":[` +
			`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + v2 + `,"response":{"status":"200 OK"}},` +
			`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + v1 + `,"response":{"status":"201 Created"}}]}`
		h := newHarness(t, routes(map[string]string{
			"/fhir/R4/Bundle/b1":          v2,
			"/fhir/R4/Bundle/b1/_history": hist,
		}))
		if resp, body := h.get("/fhir/Bundle/b1/_history", tokOther); strings.Contains(body, "Opioid") {
			t.Errorf("org-b, a history answered as %s: %d %.400s", typ, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/Bundle/b1/_history", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"c0"`) {
			t.Errorf("org-a, a history answered as %s: %d %.400s", typ, resp.StatusCode, body)
		}
	}
}
