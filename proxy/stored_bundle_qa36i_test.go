package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestStoredSearchsetBundleInBatchQA36I: a Bundle the server holds may be
// of any type, a searchset or a history too (a saved result set). Read
// alone, its own labels label its entries (bb12b04); read in a batch,
// where it is the batch-response entry's resource, it was taken for the
// server's answer to a search and its labels labelled nothing: org-b got
// the Condition ("Opioid use disorder") whole. The batch entry's request
// says it is a read.
func TestStoredSearchsetBundleInBatchQA36I(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"searchset"} {
		doc := qa36eDoc("b1", typ, `{"security":[`+qa36eR+`]}`, true)
		batch := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + doc + `,"response":{"status":"200 OK"}}]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4": batch, "/fhir/R4/Bundle/b1": doc}))
		resp, body := h.do(http.MethodGet, "/fhir/Bundle/b1", tokOther, "", "")
		if strings.Contains(body, "Opioid") {
			t.Fatalf("%s read alone, org-b: %d %s", typ, resp.StatusCode, body)
		}
		req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Bundle/b1"}}]}`
		resp, body = h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "Opioid") {
			t.Errorf("%s in a batch, org-b: %d %s", typ, resp.StatusCode, body)
		}
		resp, body = h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") {
			t.Errorf("%s in a batch, org-a: %d %s", typ, resp.StatusCode, body)
		}
	}
}
