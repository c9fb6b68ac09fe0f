package proxy

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdentifierCheckFailureSharedByWaiters: responses that wait for the
// known-answer check of Consent?patient:identifier= while it fails (the
// upstream answers the check's listing 503) are withheld with its failure;
// none runs a check of its own. Each ran one, one after another: five
// responses queued behind a failing check cost the failing upstream five
// checks, the last response waiting for all of them (QA round 34, area B's
// open item). A response that comes after the failure runs the next check.
// A check that ends because its own caller hung up says nothing of the
// upstream: the next waiter runs its own, and the others share that one's
// failure.
func TestIdentifierCheckFailureSharedByWaiters(t *testing.T) {
	t.Parallel()
	const optOut = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"identifier":{"system":"urn:mrn","value":"123"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	for _, hangUp := range []bool{false, true} {
		name := "the check fails (503)"
		if hangUp {
			name = "the first check's caller hangs up"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
			searchingFHIR(u)
			inner := u.upstream.Config.Handler
			var checks atomic.Int32
			arrived := make(chan struct{}, 1)
			release := make(chan struct{})
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				// Patients p2 to p5, each with an MRN and an SUD condition:
				// reads of one patient share one consent read (flights), so
				// the reads that queue for the check are of other patients.
				if n := strings.TrimPrefix(r.URL.Path, "/fhir/R4/Condition/sud"); n != r.URL.Path && n != "1" {
					fhirJSONHandler(http.StatusOK, strings.ReplaceAll(strings.ReplaceAll(sudCondition, `"sud1"`, `"sud`+n+`"`), "Patient/p1", "Patient/p"+n))(w, r)
					return
				}
				if n := strings.TrimPrefix(r.URL.Path, "/fhir/R4/Patient/p"); n != r.URL.Path && n != "1" {
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p`+n+`","identifier":[{"system":"urn:mrn","value":"12`+n+`"}]}`)(w, r)
					return
				}
				if r.URL.Path == "/fhir/R4/Consent" && !q.Has("patient") && !q.Has("patient:identifier") {
					// The check's listing of the consents: the first waits
					// until the others queue (or its caller hangs up), and
					// all fail.
					if checks.Add(1) == 1 {
						arrived <- struct{}{}
						select {
						case <-release:
						case <-r.Context().Done():
							return
						}
					}
					fhirJSONHandler(http.StatusServiceUnavailable, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}`)(w, r)
					return
				}
				inner.ServeHTTP(w, r)
			})
			u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"), optOut)
			m := u.server.consents.(*sourcedConsents)

			read := func(ctx context.Context, n int) int {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.proxy.URL+"/fhir/Condition/sud"+strconv.Itoa(n), nil)
				req.Header.Set("Authorization", "Bearer "+tokConsented)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return -1
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			const queued = 4
			codes := make(chan int, queued)
			first, hangup := context.WithCancel(context.Background())
			defer hangup()
			go func() { _ = read(first, 1) }()
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				close(release)
				t.Fatal("the first read ran no check")
			}
			for i := range queued {
				go func() { codes <- read(context.Background(), 2+i) }()
			}
			for deadline := time.Now().Add(10 * time.Second); m.identifierWaiting.Load() < queued; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					close(release)
					t.Fatalf("%d reads wait for the check, want %d", m.identifierWaiting.Load(), queued)
				}
			}
			if hangUp {
				hangup()
			} else {
				close(release)
			}
			for range queued {
				if code := <-codes; code == http.StatusOK || code < 0 {
					t.Errorf("a read behind the failing check: %d, want it withheld", code)
				}
			}
			want := int32(1)
			if hangUp {
				want = 2 // the hung-up check's, and the next waiter's
			}
			if n := checks.Load(); n != want {
				t.Errorf("%d checks for %d reads queued behind the first, want %d", n, queued, want)
			}
			if code := read(context.Background(), 1); code == http.StatusOK || code < 0 {
				t.Errorf("the read after the failure: %d, want it withheld", code)
			}
			if n := checks.Load(); n != want+1 {
				t.Errorf("the read after the failure: %d checks in all, want one of its own (%d)", n, want+1)
			}
		})
	}
}
