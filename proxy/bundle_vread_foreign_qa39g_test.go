package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBundleVreadAnsweredWithAnotherResourceQA39G: 3105089 holds a
// resource's vread to its own versions, but left a stored Bundle's vread
// to the Bundle branch, which judges an answer that is a Bundle only: a
// server answering Bundle/b1/_history/1 with the older version of
// Condition/sud1 (ordinary then, SUD now) gave it to org-b (200), as
// Condition/c1/_history/1 did before 3105089. It answers as for a
// missing version, for org-a too.
func TestBundleVreadAnsweredWithAnotherResourceQA39G(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	b1 := `{"resourceType":"Bundle","id":"b1","meta":{"versionId":"2"},"type":"collection","entry":[{"fullUrl":"urn:uuid:x","resource":` + bpObs + `}]}`
	h := newHarness(t, currentReads(fhirJSONHandler(200, old), map[string]string{"Bundle/b1": b1, "Condition/sud1": sudCondition}))
	for _, tok := range []string{tokOther, tokConsented} {
		resp, body := h.get("/fhir/Bundle/b1/_history/1", tok)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") {
			t.Errorf("Bundle/b1/_history/1 answered with sud1's older version: %d %.600s", resp.StatusCode, body)
		}
	}
}
