package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEmergencyAllowedInstanceOperationQA39J: an operation a site lets
// through with enforcement.allow_operations ($expunge here) is one the proxy
// cannot tell a read from a write of, and whose answer it does not decide.
// POSTed on p1's Part 2 Condition, readable to the ER clinician only under
// the emergency, it reached the upstream (the record expunged, no 2.51
// record), where an update or delete of it answers 403 (e6833fd). Such an
// operation on an instance is decided without the claim, as a write is.
func TestEmergencyAllowedInstanceOperationQA39J(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	up := &emergencyStore{writes: make(chan string, 32)}
	h := newHarness(t, up.handler, func(o *Options, d *Deps) {
		d.Auth = emergencyWriterAuth{}
		o.Requests.AllowOperations = []string{"expunge"}
	})
	params := `{"resourceType":"Parameters","parameter":[{"name":"expungeEverything","valueBoolean":true}]}`
	resp, body := h.send("POST", "/fhir/Condition/p2c/$expunge", "bg", fj, params)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "emergency") {
		t.Errorf("$expunge of the Part 2 record readable only under the emergency: %d %s, want 403 naming the emergency", resp.StatusCode, body)
	}
	if resp, _ := h.send("POST", "/fhir/Condition/p2c/$expunge", "noclaim", fj, params); resp.StatusCode != http.StatusNotFound {
		t.Errorf("$expunge without the claim: %d, want 404", resp.StatusCode)
	}
	if n := len(up.writes); n != 0 {
		t.Fatalf("%d operations on the Part 2 record reached the upstream", n)
	}
	// The ordinary record's operation still goes under the claim.
	if resp, body := h.send("POST", "/fhir/Condition/ok1/$expunge", "bg", fj, params); resp.StatusCode/100 != 2 {
		t.Errorf("$expunge of an ordinary record under the emergency: %d %s, want it forwarded", resp.StatusCode, body)
	}
}
