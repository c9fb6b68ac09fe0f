package console

import (
	"net/http"
	"testing"
)

// Every console answer (pages, scripts, API answers, errors) tells the
// browser to sever a cross-site opener and to refuse the answer to other
// sites' pages as a subresource (QA round 25).
func TestIsolationHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	for name, h := range map[string]http.Header{
		"page":      f.do("GET", "/console/", "", nil).Header(),
		"script":    f.do("GET", "/console/app.js", "", nil).Header(),
		"api":       f.call(b, "audit/verify", `{}`).Header(),
		"not found": f.do("GET", "/console/nothing", "", nil).Header(),
	} {
		if h.Get("Cross-Origin-Opener-Policy") != "same-origin" || h.Get("Cross-Origin-Resource-Policy") != "same-origin" {
			t.Errorf("%s: COOP %q, CORP %q", name, h.Get("Cross-Origin-Opener-Policy"), h.Get("Cross-Origin-Resource-Policy"))
		}
	}
}
