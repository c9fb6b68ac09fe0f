package proxy

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// QA round 33, area E, on 7d9a5ef. The known-answer check of
// Consent?patient:identifier= leaves the search "unverified, used" when
// the check itself fails, and marks the check done for 10 minutes. One
// failed listing (a 503 from a busy upstream, or a caller that hangs up
// while the check runs: it runs under the caller's context) made the
// search trusted, and on a server that ignores the modifier the opt-out
// naming p1 by MRN went unread: org-a read the SUD condition (200), at
// once and for the next 10 minutes.
func TestIdentifierProbeFailureFailsOpenQA33E(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	const optOut = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"identifier":{"system":"urn:mrn","value":"123"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	for _, hangUp := range []bool{false, true} {
		name := "the check's listing fails once (503)"
		if hangUp {
			name = "a caller hangs up while the check lists"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
			searchingFHIR(u)
			inner := u.upstream.Config.Handler
			var listings atomic.Int32
			listing := make(chan struct{}, 1)
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier") {
					// ignores the modifier
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
					return
				}
				if r.URL.Path == "/fhir/R4/Consent" && !q.Has("patient") && listings.Add(1) == 1 {
					if hangUp {
						listing <- struct{}{}
						<-r.Context().Done()
						return
					}
					fhirJSONHandler(http.StatusServiceUnavailable, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}`)(w, r)
					return
				}
				inner.ServeHTTP(w, r)
			})
			u.fhir.set(200, permit, optOut)
			if hangUp {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.proxy.URL+"/fhir/Condition/sud1", nil)
				req.Header.Set("Authorization", "Bearer "+tokConsented)
				go func() { <-listing; cancel() }()
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			} else if code := u.read(tokConsented); code == http.StatusOK {
				t.Errorf("the read whose check failed: org-a read the SUD condition despite the MRN opt-out (200)")
			}
			if code := u.read(tokConsented); code == http.StatusOK {
				t.Errorf("the next read: org-a read the SUD condition despite the MRN opt-out (200)")
			}
		})
	}
}

// QA round 33, area E, on 7d9a5ef. When the check's own
// Consent?patient:identifier= search fails in transport, the warning
// "could not check ..." logs the error as it is: a *url.Error whose
// text is the request URL, with the known consent's MRN in it.
func TestIdentifierProbeLogsNoIdentifierQA33E(t *testing.T) {
	t.Parallel()
	const optOut = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"identifier":{"system":"urn:mrn","value":"98765"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	var logs lockedBuffer
	u.server.log = timelessLogger(&logs)
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Consent" && r.URL.Query().Has("patient:identifier") {
			// the connection drops
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = c.Close()
			}
			return
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(200, optOut)
	_ = u.read(tokConsented)
	if l := linesNaming(logs.String(), "98765"); len(l) > 0 {
		t.Errorf("the log names the known consent's MRN: %q", l)
	}
}
