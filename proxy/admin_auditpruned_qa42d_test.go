package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuditListingSaysWhatWasPrunedQA42D (QA round 42, area D): after the
// oldest entries were pruned into export files, the accounting says so
// (TestAccountingSaysWhatWasPruned), but GET /admin/audit?patient=... (the
// console's ledger search) answered the entries left with no header and
// no note: p1's history read as beginning at the checkpoint. It now
// carries X-DS4P-Pruned-Through and "pruned" when its range reaches back
// before the checkpoint, in JSON and FHIR, on every page; one starting
// after it does not.
func TestAuditListingSaysWhatWasPrunedQA42D(t *testing.T) {
	t.Parallel()
	l := seededLedger(t)
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
	if resp, body := h.get("/admin/audit?patient=Patient/p1", tokAdmin); resp.StatusCode != 200 || strings.Contains(body, `"pruned"`) || resp.Header.Get("X-DS4P-Pruned-Through") != "" {
		t.Fatalf("before any prune: %d %v %.300s", resp.StatusCode, resp.Header, body)
	}
	if _, err := l.Prune(t.Context(), auditT0.Add(6*time.Minute+30*time.Second), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin/audit?patient=Patient/p1", "/admin/audit?patient=Patient/p1&limit=1", "/admin/audit?format=fhir"} {
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-DS4P-Pruned-Through") == "" {
			t.Errorf("%s after pruning entries 1-6 = %d, X-DS4P-Pruned-Through %q; want it set (%.300s)", path, resp.StatusCode, resp.Header.Get("X-DS4P-Pruned-Through"), body)
		}
		if !strings.Contains(path, "fhir") && (!strings.Contains(body, `"pruned":{`) || !strings.Contains(body, `"through_seq":6`)) {
			t.Errorf("%s after pruning entries 1-6: no pruned note in %.400s", path, body)
		}
	}
	from := url.QueryEscape(auditT0.Add(8 * time.Minute).Format(time.RFC3339))
	if resp, body := h.get("/admin/audit?patient=Patient/p1&from="+from, tokAdmin); resp.StatusCode != 200 || strings.Contains(body, `"pruned"`) || resp.Header.Get("X-DS4P-Pruned-Through") != "" {
		t.Errorf("a listing after the checkpoint mentions pruning: %d %.300s", resp.StatusCode, body)
	}
}
