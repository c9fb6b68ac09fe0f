package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestIdentifierListingNoDateQA34F: on demand, while the known-answer
// check of Consent?patient:identifier= is unverified, the consents written
// since are listed from the last answer's Date less a second. An upstream
// that sends no Date had the time taken from the local clock: with its own
// clock behind, an opt-out the EHR then wrote by p1's MRN was stamped
// before that time, never listed, and org-a read p1's SUD condition under
// its permit (200). The time listed from is now the newest meta.lastUpdated
// listed less a second when there is no Date.
func TestIdentifierListingNoDateQA34F(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && !q.Has("patient") && q.Get("_id") == "":
			// The listing, with no Date, honouring _lastUpdated=gt.
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			var b map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
				t.Errorf("the fake's listing: %v", err)
			}
			var kept []any
			gt, _ := time.Parse(time.RFC3339, strings.TrimPrefix(q.Get("_lastUpdated"), "gt"))
			for _, e := range asList(b["entry"]) {
				res, _ := e.(map[string]any)["resource"].(map[string]any)
				meta, _ := res["meta"].(map[string]any)
				s, _ := meta["lastUpdated"].(string)
				if at, err := time.Parse(time.RFC3339Nano, s); err == nil && at.After(gt) {
					kept = append(kept, e)
				}
			}
			b["entry"] = kept
			out, _ := json.Marshal(b)
			w.Header()["Date"] = nil
			fhirJSONHandler(http.StatusOK, string(out))(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u.fhir.set(http.StatusOK, permit)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("under the permit, no consent by MRN to check with: %d, want 200", code)
	}
	m := u.server.consents.(*sourcedConsents)
	if m.identifierProbe.Load() != identifierSearchUnverified {
		t.Fatal("the check did not end unverified")
	}
	m.identifierListAt.Store(0) // a listing with nothing new
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("nothing new: %d, want 200", code)
	}
	// The upstream's clock is five minutes behind the proxy's.
	stamp := time.Now().Add(-5 * time.Minute).UTC().Format(time.RFC3339)
	u.fhir.set(http.StatusOK, permit, strings.Replace(mrnOptOut, "2026-02-01T00:00:00Z", stamp, 1))
	m.identifierListAt.Store(0) // the listing is due (as 10 seconds on)
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
		t.Errorf("an opt-out by p1's MRN stamped by an upstream clock behind, no Date: %d %s, want the response withheld", resp.StatusCode, body)
	}
	if m.identifierProbe.Load() != identifierSearchIgnores {
		t.Error("the opt-out was not listed: the search was not found ignoring the modifier")
	}
}
