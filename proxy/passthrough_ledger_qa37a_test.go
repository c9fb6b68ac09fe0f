package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPassthroughRecordedUnderInstancePatientQA37A (QA round 37, area A, on
// 3dd1bc0): an operation's uninspected answer (passthrough_content_types)
// is recorded under the token's patient or Patient/ID's own; org-b's
// Observation/o1/$render, the HTML of p1's record, was recorded under no
// patient, though guardInstance had read o1 as p1's: p1's accounting of
// disclosures did not list it.
func TestPassthroughRecordedUnderInstancePatientQA37A(t *testing.T) {
	t.Parallel()
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Observation/o1") {
			fhirJSONHandler(200, `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>p1 weight</pre></html>"))
	}
	h := newHarness(t, handler, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	resp, body := h.get("/fhir/Observation/o1/$render", tokOther)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
		t.Fatalf("operation: %d %s", resp.StatusCode, body)
	}
	h.ledger.mu.Lock()
	entries := append(h.ledger.entries[:0:0], h.ledger.entries...)
	h.ledger.mu.Unlock()
	if len(entries) != 1 || entries[0].Patient != "Patient/p1" || len(entries[0].Disclosed) != 1 || entries[0].Disclosed[0].Type != "Binary" {
		t.Errorf("entries = %+v, want one of Patient/p1 disclosing the operation's answer", entries)
	}
}
