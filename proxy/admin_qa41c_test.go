package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAuditUnreadableParameter (QA round 41, area C): a query pair Go
// cannot read (a bad % escape, a ';' separator) was dropped by
// URL.Query(), so the filter it carried was not applied: GET
// /admin/audit?patient=Patient/p1%zz answered every patient's entries and
// ?break_glass=false;x every kind, as if no filter had been asked for
// (QA round 19 made an empty filter a 400 for the same reason), and the
// accounting read a dropped to= as no end. Such a query is a 400.
func TestAdminAuditUnreadableParameter(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, path := range []string{
		"/admin/audit?patient=Patient/p1%zz",
		"/admin/audit?patient=Patient/p1;limit=2",
		"/admin/audit?break_glass=false%",
		"/admin/audit/accounting?patient=Patient/p1&to=2026-03-01%2",
		"/admin/audit/accounting?patient=Patient/p1&from=2026-03-01;format=csv",
	} {
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") {
			t.Errorf("%s = %d %.200s; want a 400 OperationOutcome", path, resp.StatusCode, body)
		}
	}
}

// TestAdminUnreadableQueryAnyRoute (QA round 41, area C): the same on
// every administration route: /admin/Consent?patient=Patient/p1%zz
// listed every patient's consents.
func TestAdminUnreadableQueryAnyRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`))
	for _, path := range []string{"/admin/Consent?patient=Patient/p1%zz", "/admin/Consent?patient=Patient/p1;status=active"} {
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") {
			t.Errorf("%s = %d %.200s; want a 400 OperationOutcome", path, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/admin/Consent?patient=Patient/p1", tokAdmin); resp.StatusCode != http.StatusOK {
		t.Errorf("a readable query: %d %.200s", resp.StatusCode, body)
	}
}
