package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAuditEmptyTimeBoundQA36J (QA round 36, area J, on 92c6b71): an
// empty from or to was read as no bound, as break_glass= and patient= were
// read as no filter before: an auditor's script asking for a window with
// its variable unset (?patient=Patient/p1&from=) got every entry, or the
// accounting of every disclosure since the ledger began, and no error.
func TestAdminAuditEmptyTimeBoundQA36J(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, q := range []string{
		"/admin/audit?from=", "/admin/audit?patient=Patient/p1&to=",
		"/admin/audit/accounting?patient=Patient/p1&from=", "/admin/audit/accounting?patient=Patient/p1&to=",
	} {
		resp, body := h.get(q, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is empty") {
			t.Errorf("%s = %d %.200s, want 400", q, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/admin/audit/accounting?patient=Patient/p1&from=2020-01-01", tokAdmin); resp.StatusCode != http.StatusOK {
		t.Errorf("a bound given: %d %.200s", resp.StatusCode, body)
	}
}
