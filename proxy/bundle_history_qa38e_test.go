package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestStoredBundleHistoryAnswersAsReadQA38E: the history of a stored
// Bundle whose read org-b gets (200, the entries it may not see cut)
// answers 200 with its versions cut alike, not 404. After 0edb896 GET
// Bundle/b1/_history answered 404 for a collection labelled R as a whole,
// while GET Bundle/b1 answered 200 and an ordinary collection's history
// 200: the 404 told org-b that b1 holds what it may not see. A missing
// Bundle's history is still 404.
func TestStoredBundleHistoryAnswersAsReadQA38E(t *testing.T) {
	t.Parallel()
	v1 := strings.ReplaceAll(qa36eDoc("b1", "collection", `{"versionId":"1"}`, false), `c1`, `c0`)
	v2 := qa36eDoc("b1", "collection", `{"versionId":"2","security":[`+qa36eR+`]}`, false)
	hist := `{"resourceType":"Bundle","type":"history","total":2,"entry":[` +
		`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + v2 + `,"request":{"method":"PUT","url":"Bundle/b1"},"response":{"status":"200 OK"}},` +
		`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + v1 + `,"request":{"method":"POST","url":"Bundle"},"response":{"status":"201 Created"}}]}`
	h := newHarness(t, routes(map[string]string{
		"/fhir/R4/Bundle/b1":          v2,
		"/fhir/R4/Bundle/b1/_history": hist,
	}))
	read, _ := h.get("/fhir/Bundle/b1", tokOther)
	resp, body := h.get("/fhir/Bundle/b1/_history", tokOther)
	var got struct {
		Total int
		Entry []struct{ Resource struct{ ID, Type string } }
	}
	_ = json.Unmarshal([]byte(body), &got)
	if read.StatusCode != http.StatusOK || resp.StatusCode != http.StatusOK || strings.Contains(body, "Opioid") ||
		got.Total != 2 || len(got.Entry) != 2 || got.Entry[0].Resource.ID != "b1" || got.Entry[1].Resource.Type != "collection" {
		t.Errorf("org-b: read %d, history %d %s; want both 200, the versions' shells", read.StatusCode, resp.StatusCode, body)
	}
	if resp, _ := h.get("/fhir/Bundle/b9/_history", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b, a missing Bundle's history: %d, want 404", resp.StatusCode)
	}
}
