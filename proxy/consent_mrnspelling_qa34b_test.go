package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSyncMRNSpelledOtherwiseQA34B: in sync mode an upstream opt-out
// naming its patient by an MRN spelled otherwise than the Patient has it
// (another case: FHIR token search matches an Identifier.value, a string,
// without regard to case; blanks around the value or the system; a system
// with a trailing '/' or in capitals) matches no single Patient exactly
// and is held under its identifier as written: the Patient whose MRN is
// abc123 got nothing from it, and org-a read its SUD condition under its
// permit (200). Its denies now apply to that Patient. A permit so named
// grants nothing: org-a, permitted by no other consent, reads nothing.
func TestSyncMRNSpelledOtherwiseQA34B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	mrnPermit := strings.Replace(upstreamConsent("u3", "1", "2026-01-01T00:00:00Z", "Organization/org-a"),
		`"patient":{"reference":"Patient/p1"}`, `"patient":{"identifier":{"system":"urn:mrn","value":"ABC123"}}`, 1)
	for _, tt := range []struct{ name, system, value string }{
		{"value in capitals", "urn:mrn", "ABC123"},
		{"blank before the value", "urn:mrn", " abc123"},
		{"blank after the value", "urn:mrn", "abc123 "},
		{"system with a trailing slash", "urn:mrn/", "abc123"},
		{"system in capitals", "URN:MRN", "abc123"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
			q := qa32cUpstream{mrn: "abc123"}
			q.install(u)
			q.patientStatus.Store(http.StatusOK)
			optOut := strings.Replace(qa32cOptOut, `"identifier":{"system":"urn:mrn","value":"123"}`,
				`"identifier":{"system":"`+tt.system+`","value":"`+tt.value+`"}`, 1)
			u.fhir.set(http.StatusOK, permit, optOut)
			if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
				t.Fatal(err)
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("org-a read p1's SUD condition though an opt-out names p1's MRN spelled %q|%q: %d, want 404", tt.system, tt.value, code)
			}
		})
	}
	t.Run("permit", func(t *testing.T) {
		t.Parallel()
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
		q := qa32cUpstream{mrn: "abc123"}
		q.install(u)
		q.patientStatus.Store(http.StatusOK)
		u.fhir.set(http.StatusOK, mrnPermit)
		if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		if code := u.read(tokConsented); code != http.StatusNotFound {
			t.Errorf("a permit naming p1's MRN spelled otherwise let org-a read p1's SUD condition: %d, want 404", code)
		}
	})
}
