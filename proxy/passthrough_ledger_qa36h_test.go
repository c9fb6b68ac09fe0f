package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPassthroughAnswerRecordedQA36H (QA round 36, area H): an
// operation's answer in a passthrough media type (passthrough_content_types)
// leaves uninspected, and left unrecorded: the PDF or HTML of a patient's
// record went to the caller with no ledger entry, so no accounting of
// disclosures listed it, and with a ledger that could not append it was
// sent anyway.
func TestPassthroughAnswerRecordedQA36H(t *testing.T) {
	t.Parallel()
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Patient/p1") {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>" + storedSUD + "</pre></html>"))
	}
	opts := func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	}
	h := newHarness(t, handler, opts)
	resp, body := h.get("/fhir/Patient/p1/$render", tokOther)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
		t.Fatalf("operation: %d %s", resp.StatusCode, body)
	}
	h.ledger.mu.Lock()
	entries := append(h.ledger.entries[:0:0], h.ledger.entries...)
	h.ledger.mu.Unlock()
	if len(entries) == 0 {
		t.Fatalf("the passthrough answer was sent and nothing was recorded")
	}
	e := entries[0]
	if len(entries) != 1 || e.Patient != "Patient/p1" || e.Interaction != Operation || len(e.Disclosed) != 1 || e.Disclosed[0].Type != "Binary" {
		t.Errorf("entries = %+v, want one of Patient/p1 disclosing the operation's answer", entries)
	}

	failing := newHarness(t, handler, opts)
	failing.ledger.fail = true
	if resp, body := failing.get("/fhir/Patient/p1/$render", tokOther); resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "F11.20") {
		t.Errorf("ledger failing: %d %.200s, want 500 and nothing of the answer", resp.StatusCode, body)
	}
}
