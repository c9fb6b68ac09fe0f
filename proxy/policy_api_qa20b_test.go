package proxy

import (
	"strings"
	"testing"
)

// TestDecideTimeOutsideNanoseconds: the policy reads the request time in
// unix nanoseconds; a simulated time after 2262 or before 1678 wrapped
// around (2300 was decided as of 1716) while the answer echoed the time
// asked for. It is refused, naming the range; the range's ends are taken.
func TestDecideTimeOutsideNanoseconds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	body := func(at string) string {
		return `{"caller":{"org":"o","purposes":["TREAT"]},"time":"` + at + `","resources":[` + bpObs + `],"consents":[]}`
	}
	for _, at := range []string{"2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1600-01-01T00:00:00Z", "0001-01-01T00:00:00Z"} {
		resp, out := h.post("/admin/decide", tokAdmin, body(at))
		if resp.StatusCode != 400 || !strings.Contains(out, "between 1678 and 2262") {
			t.Errorf("time %s: %d %s; want 400 naming the range", at, resp.StatusCode, out)
		}
	}
	for _, at := range []string{"2262-04-11T00:00:00Z", "1678-01-01T00:00:00Z", "2026-01-01T00:00:00Z"} {
		if resp, out := h.post("/admin/decide", tokAdmin, body(at)); resp.StatusCode != 200 || !strings.Contains(out, `"time":"`+at+`"`) {
			t.Errorf("time %s: %d %s; want 200", at, resp.StatusCode, out)
		}
	}
}
