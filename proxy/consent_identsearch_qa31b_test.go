package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestOnDemandIdentifierSearchRefusedQA31B: with
// consents.patient_identifier_system set, an on-demand read of a patient's
// consents also searches Consent?patient:identifier= (d80223a). An upstream
// that does not support the modifier answers 400, and every response
// needing the patient's consents is withheld (fail closed), with nothing
// that told the operator why: the log said only that the FHIR server
// answered 400. The response is still withheld; /readyz now reports
// consent_identifier_search degraded with the cause and the setting, and
// one log line says so (the status, no identifier); both clear once the
// search is answered. A server error (500) is not reported as a refusal
// (QA round 31, area B).
func TestOnDemandIdentifierSearchRefusedQA31B(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	var logs lockedBuffer
	u.server.log = timelessLogger(&logs)
	var status atomic.Int32
	status.Store(http.StatusBadRequest)
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := int(status.Load()); r.URL.Path == "/fhir/R4/Consent" && r.URL.Query().Has("patient:identifier") && code != 0 {
			fhirJSONHandler(code, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported","diagnostics":"Unknown modifier"}]}`)(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	ready := func() (string, string) {
		t.Helper()
		_, body := u.get("/readyz", "")
		var r struct {
			Checks map[string]struct{ Status, Detail string }
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("readyz: %v %s", err, body)
		}
		c := r.Checks["consent_identifier_search"]
		return c.Status, c.Detail
	}
	if st, _ := ready(); st != "pass" {
		t.Errorf("readyz before any search: %q, want pass", st)
	}
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode < 500 || strings.Contains(body, "F11.20") {
		t.Fatalf("the identifier search refused: %d %s, want the response withheld", resp.StatusCode, body)
	}
	st, detail := ready()
	if st != "warn" || !strings.Contains(detail, ":identifier") || !strings.Contains(detail, "patient_identifier_system") || !strings.Contains(detail, "400") {
		t.Errorf("readyz while the search is refused: %q %q, want warn naming the modifier, the setting and the status", st, detail)
	}
	// Not the access log's lines: their random request ids and durations
	// held "123" now and then, and the test failed.
	if l := logs.String(); !strings.Contains(l, "refuses Consent?patient:identifier=") || len(linesNaming(l, "123")) > 0 {
		t.Errorf("the log does not say why, or names the identifier: %s", l)
	}
	status.Store(http.StatusInternalServerError)
	if resp, _ := u.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode < 500 {
		t.Errorf("the identifier search failing: %d, want the response withheld", resp.StatusCode)
	}
	status.Store(0)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("the search answered again: %d, want 200", code)
	}
	if st, detail := ready(); st != "pass" {
		t.Errorf("readyz once the search is answered: %q %q, want pass", st, detail)
	}
}
