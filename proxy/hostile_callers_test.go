package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestOverrideHeadersRefused: a header an upstream framework may honour to
// change the method or path is refused before anything is forwarded.
func TestOverrideHeadersRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for _, name := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-URL", "X-Rewrite-URL"} {
		resp, body := h.get("/fhir/Observation/bp1", tokConsented, name, "DELETE")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") || strings.Contains(body, "60.40") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	select {
	case r := <-h.seen:
		t.Errorf("the upstream was reached: %s %s", r.Method, r.URL)
	default:
	}
}

// TestCallerForwardingHeadersStripped: the caller's forwarding headers an
// upstream may build its base URL from do not reach it.
func TestCallerForwardingHeadersStripped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	resp, body := h.get("/fhir/Observation/bp1", tokConsented, "X-Forwarded-Prefix", "/../x", "X-Real-IP", "6.6.6.6",
		"X-Forwarded-Port", "1", "X-Forwarded-Server", "evil")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	r := <-h.seen
	for _, k := range []string{"X-Forwarded-Prefix", "X-Real-Ip", "X-Forwarded-Port", "X-Forwarded-Server"} {
		if v := r.Header.Get(k); v != "" {
			t.Errorf("the upstream received %s: %q", k, v)
		}
	}
}
