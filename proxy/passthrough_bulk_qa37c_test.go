package proxy

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestPassthroughCountedForBulkQA37C (QA round 37, area C, on 3dd1bc0 and
// 430a353): an operation's uninspected answer (passthrough_content_types)
// is recorded under its patients but was not counted for bulk-access
// alerts: eve pulled the rendered records of six patients through
// Patient/pN/$render, past a threshold of five, with no alert and no block.
func TestPassthroughCountedForBulkQA37C(t *testing.T) {
	store := openAlerts(t)
	ev := &recEvents{}
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/Patient/") && !strings.Contains(r.URL.Path, "$") {
			id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"`+id+`"}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>record</pre></html>"))
	}
	h := newHarness(t, handler, withBulk(BulkRules{MaxPatients: 5, Block: true}, store, ev), func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	eve := "eve|Organization/e|app-e|" + readScopes
	for i := 1; i <= 6; i++ {
		if resp, body := h.get(fmt.Sprintf("/fhir/Patient/p%d/$render", i), eve); resp.StatusCode != 200 || !strings.HasPrefix(body, "<html>") {
			t.Fatalf("render %d: %d %s", i, resp.StatusCode, body)
		}
	}
	h.ledger.mu.Lock()
	entries := append(h.ledger.entries[:0:0], h.ledger.entries...)
	h.ledger.mu.Unlock()
	if len(entries) != 6 {
		t.Fatalf("%d ledger entries, want 6", len(entries))
	}
	if entries[5].Patient != "Patient/p6" || !strings.HasPrefix(entries[5].Alert, "bulk-") {
		t.Fatalf("the crossing request's entry = %+v, want flagged with a bulk alert", entries[5])
	}
	for i, e := range entries[:5] {
		if e.Alert != "" {
			t.Fatalf("entry %d flagged before the threshold: %q", i+1, e.Alert)
		}
	}
	if resp, body := h.get("/fhir/Patient/p7/$render", eve); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "<html>") {
		t.Fatalf("blocked caller: %d %s, want 403", resp.StatusCode, body)
	}
}
