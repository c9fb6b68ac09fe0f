package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestUpstreamSyncKeepsAnOptOutNamingItsPatientByURLQA29D: with consents
// synchronised from the upstream, an active opt-out the EHR wrote with its
// patient as an absolute reference (which validation refuses, so it is
// read as a denial) withholds the patient's records beside the consent
// that permits org-a. Its denying stand-in named no patient, and the sync
// rounds keep only consents with one, so the opt-out was dropped and
// org-a read the SUD condition (on demand it was read as a denial, as
// meant) (QA round 29, area D).
func TestUpstreamSyncKeepsAnOptOutNamingItsPatientByURLQA29D(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	optOut := `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"REF"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	for _, tt := range []struct {
		name, consents string
		want           int
	}{
		{"the permit alone", "", http.StatusOK},
		{"an opt-out naming Patient/p1", "Patient/p1", http.StatusNotFound},
		{"an opt-out naming the patient by URL", "https://ehr.example/fhir/Patient/p1", http.StatusNotFound},
		{"an opt-out naming a version of the patient", "Patient/p1/_history/4", http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
			consents := []string{permit}
			if tt.consents != "" {
				consents = append(consents, strings.Replace(optOut, "REF", tt.consents, 1))
			}
			u.fhir.set(200, consents...)
			if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
				t.Fatal(err)
			}
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("read %d, want %d", code, tt.want)
			}
		})
	}
}
