package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsentNamingAReferenceAndAnMRNQA33A: an upstream opt-out whose
// patient names the record it was written for (Patient/p0, merged away or
// deleted since) and the person's MRN, as EHRs write a Reference with both
// (reference and identifier). Patient p1, whose SUD condition org-a asks
// for, has the MRN now. On demand the consent is found by p1's MRN
// (Consent?patient:identifier=) and gives p1 its denies (byIdentifier,
// e5bb08f). A sync round held it for Patient/p0 alone: the MRN was read
// only from a patient given by identifier alone (consent.PatientIdentifier),
// so no deny-only reading was kept under the MRN, and org-a read p1's SUD
// condition under its permit (200) where on demand it is withheld.
func TestConsentNamingAReferenceAndAnMRNQA33A(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	both := strings.Replace(qa32cOptOut, `"patient":{"identifier"`, `"patient":{"reference":"Patient/p0","identifier"`, 1)
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"}
			u := newUpstreamSetup(t, cfg)
			var q qa32cUpstream
			q.install(u)
			q.patientStatus.Store(http.StatusOK) // p1 has MRN 123
			u.fhir.set(http.StatusOK, permit, both)
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("org-a read p1's SUD condition though an opt-out names p1's MRN (and an older record): %d, want 404", code)
			}
			if mode != UpstreamSync {
				return
			}
			// After a restart and an incremental round that lists nothing.
			ctx := context.Background()
			restarted := u.restarted(t, cfg)
			since, _ := restarted.resume(ctx)
			u.fhir.set(http.StatusOK)
			if err := restarted.syncOnce(ctx, since, false); err != nil {
				t.Fatal(err)
			}
			e, err := restarted.upstream(ctx, "Patient/p1")
			denies := false
			for _, n := range e.consents {
				denies = denies || n.Patient == "Patient/p1" && n.DenyOnly && len(n.Rules) > 0
			}
			if err != nil || !denies {
				t.Errorf("after a restart p1's consents are %+v, %v; want the opt-out's denies among them", e.consents, err)
			}
		})
	}
}
