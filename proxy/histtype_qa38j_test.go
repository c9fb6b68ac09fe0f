package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestTypeHistoryOfAnyTypeJudgedQA38J: the versions of a type or system
// history are judged by their current ones (withholdVersionsOfWithheld)
// whatever type the server's answer says, as a Bundle's instance history
// is since 2253e0f. Condition/_history or _history answered as a searchset,
// a collection, a batch-response or a transaction-response gave org-b the
// ordinary older version (Low back pain) of Condition/sud1, whose current
// version is SUD (200); org-a, who may read sud1, still gets it.
func TestTypeHistoryOfAnyTypeJudgedQA38J(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	for _, typ := range []string{"history", "searchset", "collection", "batch-response", "transaction-response"} {
		for _, path := range []string{"/fhir/Condition/_history", "/fhir/_history"} {
			page := `{"resourceType":"Bundle","type":"` + typ + `","entry":[{"fullUrl":"x/Condition/sud1","resource":` + old + `,"request":{"method":"PUT","url":"Condition/sud1"}}]}`
			h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
				fhirJSONHandler(200, page)(w, r)
			}, map[string]string{"Condition/sud1": sudCondition}))
			resp, body := h.get(path, tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, "Low back pain") {
				t.Errorf("%s answered as %s: org-b gets the older version: %d %s", path, typ, resp.StatusCode, body)
			}
			if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Low back pain") {
				t.Errorf("%s answered as %s, org-a: %d %s", path, typ, resp.StatusCode, body)
			}
		}
	}
}

// TestBatchHistoryOfAnyTypeJudgedQA38J: so is a batch entry's type
// history: GET Condition/_history in a batch, answered in the
// batch-response by a searchset or a collection, gave org-b the older
// version.
func TestBatchHistoryOfAnyTypeJudgedQA38J(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	for _, typ := range []string{"history", "searchset", "collection"} {
		page := `{"resourceType":"Bundle","type":"` + typ + `","entry":[{"fullUrl":"x/Condition/sud1","resource":` + old + `,"request":{"method":"PUT","url":"Condition/sud1"}}]}`
		resp := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + page + `,"response":{"status":"200 OK"}}]}`
		h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
			fhirJSONHandler(200, resp)(w, r)
		}, map[string]string{"Condition/sud1": sudCondition}))
		batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition/_history"}}]}`
		r, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json", batch)
		if r.StatusCode != http.StatusOK || strings.Contains(body, "Low back pain") {
			t.Errorf("batch entry history as %s: org-b gets the older version: %d %s", typ, r.StatusCode, body)
		}
		if r, body := h.send(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", batch); r.StatusCode != http.StatusOK || !strings.Contains(body, "Low back pain") {
			t.Errorf("batch entry history as %s, org-a: %d %s", typ, r.StatusCode, body)
		}
	}
}
