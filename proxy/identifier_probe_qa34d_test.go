package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdentifierProbeListsNewConsentsQA34D: on demand, against an upstream
// that answers Consent?patient:identifier= with an empty searchset without
// honouring the modifier. The known-answer check found no consent naming
// its patient by MRN alone to check the search with, so it was trusted,
// unverified, for 10 minutes; an opt-out the EHR then wrote by p1's MRN
// was unread for those 10 minutes, and org-a read p1's SUD condition under
// its permit (200). The consents written since the check are now listed
// (Consent?_lastUpdated=gt...) every few seconds, by the response that
// finds the listing due, and one naming its patient by MRN alone runs the
// check at once: the search is found ignoring the modifier and the
// response withheld. A consent write through ds4p makes the listing due at
// once.
func TestIdentifierProbeListsNewConsentsQA34D(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	for _, how := range []string{"written at the upstream", "written through ds4p", "the listing failing"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
			searchingFHIR(u)
			inner := u.upstream.Config.Handler
			var (
				mu       sync.Mutex
				listings []string
				failing  bool
			)
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				switch {
				case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
					return
				case r.URL.Path == "/fhir/R4/Consent" && !q.Has("patient") && q.Get("_id") == "":
					mu.Lock()
					listings = append(listings, r.URL.RawQuery)
					fail := failing && q.Has("_lastUpdated")
					mu.Unlock()
					if fail {
						fhirJSONHandler(http.StatusServiceUnavailable, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}`)(w, r)
						return
					}
				}
				inner.ServeHTTP(w, r)
			})
			u.fhir.set(http.StatusOK, permit)
			if code := u.read(tokConsented); code != http.StatusOK {
				t.Fatalf("under the permit, no consent by MRN to check with: %d, want 200", code)
			}
			m := u.server.consents.(*sourcedConsents)
			if m.identifierProbe.Load() != identifierSearchUnverified {
				t.Fatal("the check did not end unverified")
			}
			if code := u.read(tokConsented); code != http.StatusOK {
				t.Fatalf("within the wait, nothing new: %d, want 200", code)
			}
			switch how {
			case "written at the upstream":
				u.fhir.set(http.StatusOK, permit, mrnOptOut)
				m.identifierListAt.Store(0) // the listing is due (as 10 seconds on)
			case "the listing failing":
				// Not trusted by the response whose listing failed.
				mu.Lock()
				failing = true
				mu.Unlock()
				u.fhir.set(http.StatusOK, permit, mrnOptOut)
				m.identifierListAt.Store(0)
				if resp, body := u.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
					t.Errorf("the listing failing (503): %d %s, want the response withheld", resp.StatusCode, body)
				}
				mu.Lock()
				failing = false
				mu.Unlock()
			default:
				done := u.server.consentWriting(http.MethodPut, fhirRequest{Type: "Consent", ID: "u2", Interaction: Update})
				u.fhir.set(http.StatusOK, permit, mrnOptOut)
				done()
			}
			resp, body := u.get("/fhir/Condition/sud1", tokConsented)
			if resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
				t.Errorf("an opt-out by p1's MRN, the search ignoring the modifier: %d %s, want the response withheld", resp.StatusCode, body)
			}
			if m.identifierProbe.Load() != identifierSearchIgnores {
				t.Error("the search was not found ignoring the modifier")
			}
			mu.Lock()
			defer mu.Unlock()
			if how != "the listing failing" && (len(listings) < 2 || !strings.Contains(listings[len(listings)-1], "_lastUpdated=gt")) {
				t.Errorf("listings %q: want the last one of the consents stamped since the check", listings)
			}
		})
	}
}
