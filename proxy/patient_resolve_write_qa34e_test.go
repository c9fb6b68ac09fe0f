package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestResolvePatientWriteRaceQA34E: the lookup of the one Patient having
// an MRN (Patient?identifier=) answered before a Patient write through
// ds4p moved the MRN from p1 to p9, and was cached after the write had
// cleared the caches: p1 stayed the MRN's Patient for upstream_ttl, where
// the other caches keep nothing a write began or ended during. In sync
// mode p1 so kept the permit of a consent naming its patient by that MRN
// alone, and records naming the patient by the MRN were p1's. The lookup
// is now cached only when no write through /fhir began or ended during
// it.
func TestResolvePatientWriteRaceQA34E(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	inner := u.upstream.Config.Handler
	var moved, block atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/R4/Patient" || r.URL.Query().Get("identifier") != "urn:mrn|123" {
			inner.ServeHTTP(w, r)
			return
		}
		holder := "p1"
		if moved.Load() {
			holder = "p9"
		}
		rec := httptest.NewRecorder()
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"`+holder+
			`","identifier":[{"system":"urn:mrn","value":"123"}]},"search":{"mode":"match"}}]}`)(rec, r)
		if block.Swap(false) {
			close(entered)
			<-release
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	ctx := context.Background()
	block.Store(true)
	first := make(chan string)
	go func() {
		ref, _ := u.server.resolvePatient(ctx, "urn:mrn|123")
		first <- ref
	}()
	<-entered
	// The Patient write moving the MRN ends while the lookup is under way.
	done := u.server.consentWriting(http.MethodPut, fhirRequest{Type: "Patient", ID: "p9", Interaction: Update})
	moved.Store(true)
	done()
	close(release)
	if ref := <-first; ref != "Patient/p1" {
		t.Fatalf("the lookup answered before the write: %q, want Patient/p1", ref)
	}
	if ref, err := u.server.resolvePatient(ctx, "urn:mrn|123"); err != nil || ref != "Patient/p9" {
		t.Errorf("after the write moved the MRN: %q, %v; want Patient/p9", ref, err)
	}
}
