package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSharedMRNPermitIsNoOnesQA32D: a consent naming its patient by an MRN
// no single live Patient has (two records of one MRN by error, or a
// deleted Patient) is given to each patient that has the MRN, but as what
// validation reads it: a consent of no known patient, a denial. Its
// permits are never applied, so two people sharing an MRN by error do not
// get each other's (QA round 32, area D's concern; no change in
// behaviour: this guards it).
func TestSharedMRNPermitIsNoOnesQA32D(t *testing.T) {
	t.Parallel()
	byMRN := func(mrn string) string {
		c := upstreamConsent("u3", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
		return strings.Replace(c, `"patient":{"reference":"Patient/p1"}`, `"patient":{"identifier":{"system":"urn:mrn","value":"`+mrn+`"}}`, 1)
	}
	for _, tt := range []struct {
		name, mode, mrn string
		status, want    int
	}{
		{"shared MRN, on demand", UpstreamOnDemand, "dup", http.StatusOK, http.StatusNotFound},
		{"shared MRN, sync", UpstreamSync, "dup", http.StatusOK, http.StatusNotFound},
		{"deleted patient, on demand", UpstreamOnDemand, "123", http.StatusGone, http.StatusNotFound},
		{"deleted patient, sync", UpstreamSync, "123", http.StatusGone, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: tt.mode, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
			q := qa32cUpstream{mrn: tt.mrn}
			q.install(u)
			q.patientStatus.Store(int32(tt.status))
			if !strings.Contains(byMRN(tt.mrn), `"value":"`+tt.mrn+`"`) {
				t.Fatal("the consent does not name the MRN")
			}
			u.fhir.set(http.StatusOK, byMRN(tt.mrn))
			if tt.mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("org-a read p1's SUD condition under a permit naming its MRN: %d, want %d", code, tt.want)
			}
		})
	}
}
