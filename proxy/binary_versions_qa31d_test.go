package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnclassifiedBinaryOlderVersionQA31D: a Binary whose current version
// carries data and no confidentiality label reads as missing to every
// caller (withholdUninspectable: nobody classified what it holds); its
// older version, classified N, went out by a vread and on a type or system
// history page, which showed that the Binary that reads as missing exists
// (and what it held before). The current version is judged as a read
// judges it (decideStored), so the older one goes with it.
func TestUnclassifiedBinaryOlderVersionQA31D(t *testing.T) {
	t.Parallel()
	cur := `{"resourceType":"Binary","id":"b1","meta":{"versionId":"2"},"contentType":"text/plain","data":"aGVsbG8="}`
	old := `{"resourceType":"Binary","id":"b1","meta":{"versionId":"1","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"contentType":"text/plain","data":"aGk="}`
	page := `{"resourceType":"Bundle","type":"history","entry":[{"resource":` + old + `,"request":{"method":"POST","url":"Binary"}},{"resource":` + bpObs + `,"request":{"method":"PUT","url":"Observation/bp1"}}]}`
	h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Binary/b1/_history/1"):
			fhirJSONHandler(200, old)(w, r)
		case strings.HasSuffix(r.URL.Path, "/_history"):
			fhirJSONHandler(200, page)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}, currentOf(cur, bpObs)))
	if resp, _ := h.get("/fhir/Binary/b1", tokConsented); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the read of the unclassified Binary: %d, want 404", resp.StatusCode)
	}
	if resp, body := h.get("/fhir/Binary/b1/_history/1", tokConsented); resp.StatusCode != http.StatusNotFound {
		t.Errorf("vread of its older version: %d %s, want 404 as its read", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/_history", tokConsented); resp.StatusCode != 200 || strings.Contains(body, `"b1"`) || !strings.Contains(body, "bp1") {
		t.Errorf("system history: %d %s", resp.StatusCode, body)
	}
}
