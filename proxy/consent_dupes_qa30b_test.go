package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestUpstreamAnswerListingAConsentTwiceQA30B: an upstream whose Consent
// search lists one consent twice (two versions, or one of its _history)
// counts the later version, and the other only with its denies (as Merge
// reads two copies of one consent). On demand both versions went to the
// policy whole, so an older permit the patient had revoked (v2 inactive)
// disclosed the SUD condition to org-a beside the revocation; in sync mode
// the version listed last counted, whichever it was (QA round 30, area B).
func TestUpstreamAnswerListingAConsentTwiceQA30B(t *testing.T) {
	t.Parallel()
	v1 := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	v2 := upstreamConsent("u1", "2", "2026-02-01T00:00:00Z", "Organization/org-a")
	revoked := strings.Replace(v2, `"status":"active"`, `"status":"inactive"`, 1)
	revokedBadly := strings.Replace(revoked, `"status":"inactive"`, `"status":"inactive","implicitRules":"http://ehr.example/rules"`, 1)
	optOutV1 := `{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	for _, tt := range []struct {
		name     string
		consents []string
		want     int
	}{
		{"the permit", []string{v1}, http.StatusOK},
		{"the revocation, then the permit it revoked", []string{revoked, v1}, http.StatusNotFound},
		{"the permit, then its revocation", []string{v1, revoked}, http.StatusNotFound},
		{"a revocation that fails validation, then the permit", []string{revokedBadly, v1}, http.StatusNotFound},
		{"the permit twice", []string{v2, v1}, http.StatusOK},
		{"the permit, and an older opt-out of the same id", []string{v2, optOutV1}, http.StatusNotFound},
	} {
		for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, SyncInterval: time.Hour, TTL: time.Hour})
			u.fhir.set(200, tt.consents...)
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("%s, %s: %d, want %d", tt.name, mode, code, tt.want)
			}
		}
	}
}

// TestSyncReplacesDenyOnlyReadingsQA30B: the deny-only reading of an older
// version an answer listed beside the current one stays while the consent
// is unchanged, and goes with the next version an incremental round reads
// (QA round 30, area B).
func TestSyncReplacesDenyOnlyReadingsQA30B(t *testing.T) {
	t.Parallel()
	v2 := upstreamConsent("u1", "2", "2026-02-01T00:00:00Z", "Organization/org-a")
	optOutV1 := `{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	u.fhir.set(200, v2, optOutV1)
	syncQA30B(t, u, true)
	if resp, body := u.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("beside the older opt-out: %d %s, want 404", resp.StatusCode, body)
	}
	u.fhir.set(200, strings.Replace(v2, `"versionId":"2"`, `"versionId":"3"`, 1))
	syncQA30B(t, u, false)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("after version 3 alone: %d, want 200", code)
	}
}
