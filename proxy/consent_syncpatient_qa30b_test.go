package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSyncConsentNamingItsPatientByIdentifierQA30B: with consents
// synchronised from the upstream and patients matched by an MRN system
// (consents.patient_identifier_system), an upstream consent naming its
// patient by that identifier alone counts for the patient the upstream
// matches it to, as a written one does through the admin API. The sync
// rounds kept only consents with a patient reference, so an active opt-out
// naming the patient by MRN was dropped and org-a read the SUD condition
// under the patient's other consent; a permit so named was dropped too
// (QA round 30, area B).
func TestSyncConsentNamingItsPatientByIdentifierQA30B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	const optOut = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"identifier":{"system":"urn:mrn","value":"MRN"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	byMRN := strings.Replace(strings.Replace(permit, `"patient":{"reference":"Patient/p1"}`, `"patient":{"identifier":{"system":"urn:mrn","value":"123"}}`, 1), `"id":"u1"`, `"id":"u3"`, 1)
	for _, tt := range []struct {
		name     string
		consents []string
		want     int
	}{
		{"the permit alone", []string{permit}, http.StatusOK},
		{"an opt-out naming the patient by MRN", []string{permit, strings.Replace(optOut, "MRN", "123", 1)}, http.StatusNotFound},
		{"an opt-out naming an MRN no patient has", []string{permit, strings.Replace(optOut, "MRN", "999", 1)}, http.StatusOK},
		{"a permit naming the patient by MRN", []string{byMRN}, http.StatusOK},
	} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
		u.fhir.set(200, tt.consents...)
		if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		if code := u.read(tokConsented); code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.want)
		}
	}
}
