package proxy

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestPatientWriteRereadsIdentifiers: with
// consents.patient_identifier_system, a Patient's identifiers decide which
// consents named by an identifier alone are its. An MRN given to a Patient
// through ds4p (a PUT of the Patient) counts once ds4p answered it: the
// Patient's old identifiers were kept, cached, for upstream_ttl, and org-a
// kept reading its SUD condition under the permit though an opt-out names
// the Patient's new MRN; on demand, the patient's consents read by its old
// MRN were kept alike.
func TestPatientWriteRereadsIdentifiers(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	for _, mode := range []string{UpstreamSync, UpstreamOnDemand} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
			q := qa32cUpstream{}
			q.install(u)
			q.patientStatus.Store(http.StatusOK)
			// Patient p1 has MRN 456 until the write, 123 after it; the
			// opt-out names MRN 123, which no Patient has at first.
			var mrn atomic.Value
			mrn.Store("456")
			inner := u.upstream.Config.Handler
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/fhir/R4/Patient/p1" {
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"`+mrn.Load().(string)+`"}]}`)(w, r)
					return
				}
				inner.ServeHTTP(w, r)
			})
			u.fhir.set(http.StatusOK, permit, qa32cOptOut)
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != http.StatusOK {
				t.Fatalf("before the write: %d, want 200 (the opt-out names another MRN)", code)
			}
			done := u.server.consentWriting(http.MethodPut, fhirRequest{Interaction: Update, Type: "Patient", ID: "p1"})
			mrn.Store("123")
			done()
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("after p1 was given the opted-out MRN through ds4p: %d, want 404", code)
			}
		})
	}
}
