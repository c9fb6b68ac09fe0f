package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestLabelledEmptyBundleOperationQA38J: an operation on a stored Bundle
// needs its whole current version (620eeda), but a collection without
// entries, or with entries that carry no resource, has no item to withhold:
// labelled SUD and R as a whole it reads for org-b with
// neither label, the mark being its entries', while Bundle/e1/$meta
// answered both (200). It answers as for a missing Bundle; an unlabelled
// empty collection's $meta still answers.
func TestLabelledEmptyBundleOperationQA38J(t *testing.T) {
	t.Parallel()
	sec := `{"versionId":"2","security":[` + qa36eSUD + `,` + qa36eR + `]}`
	meta := `{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":` + sec + `}]}`
	h := newHarness(t, routes(map[string]string{
		"/fhir/R4/Bundle/e1":       `{"resourceType":"Bundle","id":"e1","meta":` + sec + `,"type":"collection"}`,
		"/fhir/R4/Bundle/e1/$meta": meta,
		"/fhir/R4/Bundle/e2":       `{"resourceType":"Bundle","id":"e2","meta":` + sec + `,"type":"collection","entry":[{"fullUrl":"urn:uuid:x","response":{"status":"404 Not Found"}}]}`,
		"/fhir/R4/Bundle/e2/$meta": meta,
		"/fhir/R4/Bundle/e3":       `{"resourceType":"Bundle","id":"e3","meta":{"versionId":"1"},"type":"collection"}`,
		"/fhir/R4/Bundle/e3/$meta": `{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":{"versionId":"1"}}]}`,
	}))
	_, missing := h.get("/fhir/Bundle/e0/$meta", tokOther)
	for _, id := range []string{"e1", "e2"} {
		if resp, body := h.get("/fhir/Bundle/"+id, tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "SUD") {
			t.Errorf("org-b reads %s: %d %s", id, resp.StatusCode, body)
		}
		resp, body := h.get("/fhir/Bundle/"+id+"/$meta", tokOther)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, `"SUD"`) || body != strings.ReplaceAll(missing, "e0", id) {
			t.Errorf("org-b $meta of %s: %d %s, want as missing", id, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Bundle/e3/$meta", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, "valueMeta") {
		t.Errorf("org-b $meta of an unlabelled empty Bundle: %d %s", resp.StatusCode, body)
	}
}
