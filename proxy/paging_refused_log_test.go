package proxy

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestRefusedPageLinkLogged: a page link that does not open, or is another
// caller's, leaves one info line with its status and issue code and never
// the token (QA round 19: replicas with different paging keys answered
// their links 400 without a trace an operator could find).
func TestRefusedPageLinkLogged(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
			`{"relation":"next","url":"`+h.base()+`/Observation?subject=Patient/p1&_offset=2"}],`+
			`"entry":[{"resource":`+bpObs+`}]}`)(w, r)
	}, func(_ *Options, d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokConsented)
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != 200 || next == "" {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	tok := next[strings.LastIndexByte(next, '/')+1:]
	if resp, _ := h.get("/fhir/_page/"+tok[:len(tok)-3]+"AAA", tokConsented); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a tampered link: %d", resp.StatusCode)
	}
	if resp, _ := h.get("/fhir/_page/"+tok, tokOther); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another caller's link: %d", resp.StatusCode)
	}
	out := logs.String()
	if strings.Count(out, `"msg":"page link refused"`) != 2 || !strings.Contains(out, `"status":400`) || !strings.Contains(out, `"status":404`) {
		t.Fatalf("want two refusals logged with their status: %s", out)
	}
	if strings.Contains(out, tok[:16]) {
		t.Fatalf("the log holds the token: %s", out)
	}
}
