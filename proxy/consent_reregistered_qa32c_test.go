package proxy

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestOptOutByMRNOfAReRegisteredPatientQA32C: the EHR deleted Patient p1,
// whose records remain and name it (and a permit of org-a names it), and
// registered the person again as Patient p9 with the same MRN; the person's
// opt-out names the MRN alone. Patient?identifier= finds p9 only, so the
// opt-out was p9's and never reached p1's records: org-a read them, on
// demand and in sync mode. A consent named by an identifier a patient has
// now also applies to that patient by its denies alone (it can only
// withhold), after a restart too.
func TestOptOutByMRNOfAReRegisteredPatientQA32C(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cfg := ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"}
			u := newUpstreamSetup(t, cfg)
			var q qa32cUpstream
			q.install(u)
			q.newPatient.Store(true)
			u.fhir.set(http.StatusOK, permit, qa32cOptOut)
			ctx := context.Background()
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(ctx, time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("org-a read p1's SUD condition, the person's MRN opt-out resolved to p9: %d, want 404", code)
			}
			if mode != UpstreamSync {
				return
			}
			if got := u.server.consents.(*sourcedConsents).mirror.patientsOf("upstream:u2"); len(got) != 1 || got[0] != "Patient/p9" {
				t.Errorf("the opt-out is held whole for %v, want [Patient/p9]", got)
			}
			// After a restart and an incremental round that lists nothing.
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
			if got := restarted.mirror.patientsOf("upstream:u2"); len(got) != 1 || got[0] != "Patient/p9" {
				t.Errorf("after a restart the opt-out is held whole for %v, want [Patient/p9]", got)
			}
		})
	}
}
