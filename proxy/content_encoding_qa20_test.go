package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCompressedRequestBodyRefused: a request body with a Content-Encoding
// went upstream as sent, while the proxy checked its bytes as they were: a
// server inflating it acts on a POST _search form or resource the checks
// never read (QA round 20). Only identity is taken.
func TestCompressedRequestBodyRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`))
	for _, enc := range []string{"br", "gzip", "identity, br", "BR"} {
		resp, body := h.do(http.MethodPost, "/fhir/Condition/_search", tokConsented, "application/x-www-form-urlencoded", "subject=Patient/p1", "Content-Encoding", enc)
		if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(body, "OperationOutcome") {
			t.Errorf("Content-Encoding %q: %d %s", enc, resp.StatusCode, body)
		}
	}
	if resp, body := h.do(http.MethodPost, "/fhir/Condition/_search", tokConsented, "application/x-www-form-urlencoded", "subject=Patient/p1", "Content-Encoding", "identity"); resp.StatusCode != http.StatusOK {
		t.Errorf("identity: %d %s", resp.StatusCode, body)
	}
}
