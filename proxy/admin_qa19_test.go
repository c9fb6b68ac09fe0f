package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAuditEmptyRange: from equal to to (to is exclusive) is a 400
// OperationOutcome on both routes, as ds4p audit refuses it: an empty
// accounting reads as "never disclosed".
func TestAdminAuditEmptyRange(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, path := range []string{
		"/admin/audit?from=2026-03-01&to=2026-03-01",
		"/admin/audit/accounting?patient=Patient/p2&from=2026-03-01&to=2026-03-01",
		"/admin/audit/accounting?patient=Patient/p2&from=2026-03-01T05:00:00%2B05:00&to=2026-03-01T00:00:00Z",
	} {
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "to equals from") {
			t.Errorf("%s = %d %s, want 400 saying to equals from", path, resp.StatusCode, body)
		}
	}
}
