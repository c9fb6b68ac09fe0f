package proxy

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSyncMRNMovedQA34D: an upstream permit naming its patient by MRN
// alone, which a full sync round found on Patient p1. The EHR then moves
// the MRN to Patient p9 (p1 gets another). On demand the permit is no
// longer read for p1 (its MRN finds nothing) and org-a's read of p1's SUD
// condition is withheld; in sync mode the permit stayed p1's until the next
// full round, and org-a read it (200). Also after a restart, which reads
// the mirror back from the bbolt file: the permit is p1's while p1 has the
// MRN, and not once it has moved.
func TestSyncMRNMovedQA34D(t *testing.T) {
	t.Parallel()
	mrnPermit := strings.Replace(upstreamConsent("u3", "1", "2026-01-01T00:00:00Z", "Organization/org-a"),
		`"patient":{"reference":"Patient/p1"}`, `"patient":{"identifier":{"system":"urn:mrn","value":"123"}}`, 1)
	if !strings.Contains(mrnPermit, `"value":"123"`) {
		t.Fatal("upstreamConsent changed")
	}
	cfg := ConsentSources{Upstream: UpstreamSync, TTL: time.Nanosecond, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"}
	u := newUpstreamSetup(t, cfg)
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	var moved atomic.Bool
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		holder := "p1"
		if moved.Load() {
			holder = "p9"
		}
		switch {
		case r.URL.Path == "/fhir/R4/Patient/p1":
			mrn := "123"
			if moved.Load() {
				mrn = "456"
			}
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"`+mrn+`"}]}`)(w, r)
		case r.URL.Path == "/fhir/R4/Patient" && r.URL.Query().Get("identifier") == "urn:mrn|123":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"`+holder+
				`","identifier":[{"system":"urn:mrn","value":"123"}]},"search":{"mode":"match"}}]}`)(w, r)
		default:
			inner.ServeHTTP(w, r)
		}
	})
	u.fhir.set(http.StatusOK, mrnPermit)
	sc := u.server.consents.(*sourcedConsents)
	ctx := context.Background()
	since, err := sc.sync(ctx, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("p1 has the MRN the permit names: %d, want 200", code)
	}

	// A restart reads the mirror back: the permit is p1's while p1 has
	// the MRN.
	restarted := u.restarted(t, cfg)
	restartedSince, _ := restarted.resume(ctx)
	u.fhir.set(http.StatusOK)
	if err := restarted.syncOnce(ctx, restartedSince, false); err != nil {
		t.Fatal(err)
	}
	permits := func(m *sourcedConsents) bool {
		t.Helper()
		e, err := m.upstream(ctx, "Patient/p1")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range e.consents {
			if n.ID == "upstream:u3" && !n.DenyOnly {
				return true
			}
		}
		return false
	}
	if !permits(restarted) {
		t.Error("after a restart, p1, which has the MRN, lost the permit naming it")
	}

	// The EHR moves the MRN to p9; an incremental round lists nothing.
	moved.Store(true)
	sc.clearUpstream()
	restarted.clearUpstream()
	if _, err := sc.sync(ctx, since, false); err != nil {
		t.Fatal(err)
	}
	u.fhir.set(http.StatusOK, mrnPermit)
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("org-a read p1's SUD condition under a permit naming an MRN p1 no longer has: %d, want 404", code)
	}
	if permits(restarted) {
		t.Error("after a restart, p1 kept the permit naming an MRN it no longer has")
	}

	// Moved back: p1 has it again, and the permit applies again.
	moved.Store(false)
	sc.clearUpstream()
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("p1 has the MRN again: %d, want 200", code)
	}
}
