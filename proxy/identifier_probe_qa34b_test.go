package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdentifierProbeCheckedAgainQA34B: once the known-answer check found
// the upstream's Consent?patient:identifier= search answering, it was
// trusted for good. An upstream replaced under the same URL (a failover to
// a server that answers the modifier with an empty searchset, 200) left
// p1's opt-out naming it by MRN unread, and org-a read p1's SUD condition
// under its permit (200) until the proxy restarted. The check is now run
// again when due, and finding the search ignoring the modifier withholds.
// While a check is under way, responses trusting the search do not wait
// for it.
func TestIdentifierProbeCheckedAgainQA34B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var ignoring atomic.Bool
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Consent" && r.URL.Query().Has("patient:identifier") && ignoring.Load() {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(200, permit, mrnOptOut)
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("with the search answering: %d, want 404 (the MRN opt-out)", code)
	}
	m := u.server.consents.(*sourcedConsents)
	if m.identifierProbe.Load() != identifierSearchAnswers {
		t.Fatal("the check did not find the search answering")
	}

	// A check under way: the response trusts the search, not waiting.
	m.identifierRecheckAt.Store(0)
	m.identifierProbeSem <- struct{}{}
	code := u.read(tokConsented)
	<-m.identifierProbeSem
	if code != http.StatusNotFound {
		t.Errorf("during a check under way: %d, want 404", code)
	}

	// The upstream now ignores the modifier; the check is due.
	ignoring.Store(true)
	m.identifierRecheckAt.Store(0)
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode < 500 {
		t.Errorf("the upstream then answering the search without the modifier: %d %s, want the response withheld", resp.StatusCode, body)
	}
	if strings.Contains(body, "F11.20") {
		t.Errorf("withheld data in the answer: %s", body)
	}
	_, rb := u.get("/readyz", "")
	var r struct {
		Checks map[string]struct{ Status string }
	}
	if err := json.Unmarshal([]byte(rb), &r); err != nil || r.Checks["consent_identifier_search"].Status != "warn" {
		t.Errorf("readyz with the search ignoring the modifier: %s, want consent_identifier_search warn", rb)
	}
}
