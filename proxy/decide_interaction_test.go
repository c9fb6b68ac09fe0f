package proxy

import (
	"strings"
	"testing"
)

// TestDecideRefusesUnknownInteraction: a simulated interaction the policy
// input does not know is a 400 OperationOutcome naming the allowed ones.
// QA round 16: "DROP TABLE" was simulated (200).
func TestDecideRefusesUnknownInteraction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for _, in := range []string{"DROP TABLE", "Read", "simulate", " search"} {
		resp, out := h.post("/admin/decide", tokAdmin, `{"caller":{"org":"o"},"interaction":"`+in+`","resources":[`+bpObs+`]}`)
		if resp.StatusCode != 400 || !strings.Contains(out, "OperationOutcome") || !strings.Contains(out, "read, vread, search, history, operation, create, update, patch, delete, batch, capabilities") {
			t.Errorf("interaction %q: %d %s", in, resp.StatusCode, out)
		}
	}
	for _, in := range []string{"", "read", "vread", "search", "history", "operation", "create", "update", "patch", "delete", "batch", "capabilities"} {
		if resp, out := h.post("/admin/decide", tokAdmin, `{"caller":{"org":"o"},"interaction":"`+in+`","resources":[`+bpObs+`],"consents":[]}`); resp.StatusCode != 200 {
			t.Errorf("interaction %q: %d %s", in, resp.StatusCode, out)
		}
	}
}
