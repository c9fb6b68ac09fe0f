package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAuditEmptyBreakGlassQA36H (QA round 36, area H): ?break_glass=
// given empty read as no filter and answered every entry, emergency or not,
// to an auditor who asked for one kind (an empty patient, recipient or
// purpose is a 400 since QA round 19 for the same reason).
func TestAdminAuditEmptyBreakGlassQA36H(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, q := range []string{"break_glass=", "break_glass=&patient=Patient/p1"} {
		resp, body := h.get("/admin/audit?"+q, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "break_glass must be true or false") {
			t.Errorf("?%s = %d %.200s, want 400", q, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/admin/audit?break_glass=false", tokAdmin); resp.StatusCode != http.StatusOK {
		t.Errorf("?break_glass=false = %d %.200s", resp.StatusCode, body)
	}
}
