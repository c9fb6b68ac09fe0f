package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBatchEntryTypeHistoryOfAnOlderVersionAloneQA31D: a batch entry's
// type history (GET Condition/_history?_at=..., or any window the server
// answers without the current version, and without links, as Medplum
// answers a batch) holding only an older ordinary version of a Condition
// whose current version the caller may not read withholds it, as the same
// history sent on its own does (8d300ec): it showed that a Condition
// which reads as missing exists, and what it was.
func TestBatchEntryTypeHistoryOfAnOlderVersionAloneQA31D(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	hist := `{"resourceType":"Bundle","type":"history","entry":[` +
		`{"resource":` + old + `,"request":{"method":"POST","url":"Condition"},"response":{"status":"201 Created"}},` +
		`{"resource":` + bpObs + `,"request":{"method":"PUT","url":"Observation/bp1"},"response":{"status":"200 OK"}}]}`
	h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":`+hist+`,"response":{"status":"200 OK"}}]}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/_history"):
			fhirJSONHandler(200, hist)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}, currentOf(sudCondition, bpObs)))
	// On its own: withheld (8d300ec).
	if resp, body := h.get("/fhir/_history?_at=2020-01-01", tokOther); resp.StatusCode != 200 || strings.Contains(body, "Low back pain") || !strings.Contains(body, "bp1") {
		t.Fatalf("on its own: %d %s", resp.StatusCode, body)
	}
	for _, u := range []string{"Condition/_history?_at=2020-01-01", "_history?_at=2020-01-01"} {
		req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + u + `"}}]}`
		resp, body := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
		if resp.StatusCode != 200 || strings.Contains(body, "Low back pain") || strings.Contains(body, "sud1") || !strings.Contains(body, "bp1") {
			t.Errorf("batch entry %s, a caller who may not read sud1: %d %s", u, resp.StatusCode, body)
		}
	}
}
