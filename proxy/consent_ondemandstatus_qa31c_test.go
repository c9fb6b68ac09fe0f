package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// statusFHIR makes u's upstream honour the Consent search's status
// parameter, as a FHIR server does.
func statusFHIR(u *upstreamSetup) {
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := r.URL.Query().Get("status")
		if r.URL.Path != "/fhir/R4/Consent" || want == "" {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		var b map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &b) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		var kept []any
		for _, e := range asList(b["entry"]) {
			res, _ := e.(map[string]any)["resource"].(map[string]any)
			if s, _ := res["status"].(string); slices.Contains(strings.Split(want, ","), s) {
				kept = append(kept, e)
			}
		}
		b["entry"] = kept
		out, _ := json.Marshal(b)
		fhirJSONHandler(http.StatusOK, string(out))(w, r)
	})
}

// TestOnDemandUpstreamCopyEnteredInErrorQA31C: a local consent and its
// upstream copy (one id) are one consent, and the copy stored later wins
// (consent.Merge, c386b53). The EHR marking its copy entered-in-error (or
// rejected) after the local copy was stored made the local permit lose in
// sync mode, but on demand the patient's consents are searched with
// status=active,inactive only: the copy was never read, the local permit
// won alone, and org-a read the SUD condition on demand that sync mode
// withheld.
func TestOnDemandUpstreamCopyEnteredInErrorQA31C(t *testing.T) {
	t.Parallel()
	local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
	for _, status := range []string{"entered-in-error", "rejected"} {
		copy := strings.Replace(upstreamConsent("c1", "5", "2099-01-01T00:00:00Z", "Organization/org-a"), `"status":"active"`, `"status":"`+status+`"`, 1)
		sync := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
		if _, err := sync.store.Put(context.Background(), []byte(local)); err != nil {
			t.Fatal(err)
		}
		sync.fhir.set(200, copy)
		if err := sync.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		syncCode := sync.read(tokConsented)
		od := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
		statusFHIR(od)
		if _, err := od.store.Put(context.Background(), []byte(local)); err != nil {
			t.Fatal(err)
		}
		od.fhir.set(200, copy)
		if code := od.read(tokConsented); code != syncCode || code == http.StatusOK {
			t.Errorf("upstream copy %s, stored after the local permit: on demand %d, sync %d; want both withheld", status, code, syncCode)
		}
	}
}
