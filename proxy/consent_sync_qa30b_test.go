package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// syncQA30B runs one sync round, full or incremental.
func syncQA30B(t *testing.T, u *upstreamSetup, full bool) {
	t.Helper()
	since := time.Time{}
	if !full {
		since = time.Now().Add(-time.Hour)
	}
	if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), since, full); err != nil {
		t.Fatal(err)
	}
}

// TestSyncDropsAConsentNoLongerInForceQA30B: in sync mode, an incremental
// round that reads a new version of a mirrored consent which it does not
// keep (revoked in a version that fails validation, or changed into a
// research consent) drops the version mirrored before. It kept it until
// the next full round (ten rounds later by default): org-a went on reading
// the SUD condition under a permit the patient had revoked (QA round 30,
// area B).
func TestSyncDropsAConsentNoLongerInForceQA30B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	for _, tt := range []struct{ name, old, new string }{
		{"revoked in a version that fails validation", `"status":"active"`, `"status":"inactive","implicitRules":"http://ehr.example/rules"`},
		{"revoked and misspelt", `"status":"active"`, `"status":"entered-in-error","provisions":{}`},
		{"changed into a research consent", `"code":"patient-privacy"`, `"code":"research"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
			u.fhir.set(200, permit)
			syncQA30B(t, u, true)
			if code := u.read(tokConsented); code != http.StatusOK {
				t.Fatalf("under the permit: %d, want 200", code)
			}
			v2 := strings.Replace(strings.Replace(permit, `"versionId":"1"`, `"versionId":"2"`, 1), tt.old, tt.new, 1)
			u.fhir.set(200, v2)
			syncQA30B(t, u, false)
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("after the incremental round: %d, want 404 (the permit is gone)", code)
			}
		})
	}
}

// TestResearchConsentIsNoDenialQA30B: a consent whose scope is research,
// treatment or adr (consentscope) is not a privacy consent and directs no
// disclosure (DOMAIN.md). Read from the upstream it failed validation and
// became a denial of everything for its patient, so a patient who joined a
// study lost the disclosures of their privacy consent. It is now left out;
// a scope that cannot be told (another system, patient-privacy beside
// research, "Scope" spelt otherwise) is still read as a denial (QA round
// 30, area B).
func TestResearchConsentIsNoDenialQA30B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	const other = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1"},"status":"active",
	  "scope":{"coding":[SCOPE]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	const cs = "http://terminology.hl7.org/CodeSystem/consentscope"
	for _, tt := range []struct {
		name, scope string
		want        int
	}{
		{"research", `{"system":"` + cs + `","code":"research"}`, http.StatusOK},
		// An opt-out under treatment or adr is read as a mis-coded privacy
		// opt-out since QA round 31 (TestOptOutUnderAnotherScopeQA31B).
		{"treatment", `{"system":"` + cs + `","code":"treatment"}`, http.StatusNotFound},
		{"adr, STU3 system", `{"system":"http://hl7.org/fhir/consentscope","code":"adr"}`, http.StatusNotFound},
		{"privacy (the opt-out applies)", `{"system":"` + cs + `","code":"patient-privacy"}`, http.StatusNotFound},
		{"research beside privacy", `{"system":"` + cs + `","code":"research"},{"system":"` + cs + `","code":"patient-privacy"}`, http.StatusNotFound},
		{"research of another system", `{"system":"http://ehr.example/scope","code":"research"}`, http.StatusNotFound},
		{"code spelt twice", `{"system":"` + cs + `","code":"research","Code":"patient-privacy"}`, http.StatusNotFound},
	} {
		for _, mode := range []string{UpstreamSync, UpstreamOnDemand} {
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, SyncInterval: time.Hour, TTL: time.Hour})
			u.fhir.set(200, permit, strings.Replace(other, "SCOPE", tt.scope, 1))
			if mode == UpstreamSync {
				syncQA30B(t, u, true)
			}
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("%s, %s: %d, want %d", tt.name, mode, code, tt.want)
			}
		}
	}
}

// TestSyncVersionNamingNoReadablePatientQA30B: an incremental round reads
// a new version of a mirrored permit that names its patient in a form the
// proxy cannot read (an identifier of a system it does not match patients
// by). Read as a denial without patient, it was dropped, and the permit's
// earlier version kept disclosing until the next full round; its denial
// now stands for the patient the earlier version was of, as it would have
// had it named the patient readably (QA round 30, area B).
func TestSyncVersionNamingNoReadablePatientQA30B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	other := upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-a") // permits too: the denial must stand, not only the permit go
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	u.fhir.set(200, permit, other)
	syncQA30B(t, u, true)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("under the permits: %d, want 200", code)
	}
	v2 := strings.Replace(strings.Replace(permit, `"versionId":"1"`, `"versionId":"2"`, 1),
		`"patient":{"reference":"Patient/p1"}`, `"patient":{"identifier":{"system":"urn:ssn","value":"123-45-6789"}}`, 1)
	u.fhir.set(200, v2)
	syncQA30B(t, u, false)
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the version naming no readable patient: %d, want 404", code)
	}
	u.fhir.set(200, permit)
	syncQA30B(t, u, false)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("after the permit again: %d, want 200", code)
	}
}

// TestPrivacyScopeUnderTheSTU3SystemQA30B: a privacy consent whose scope
// names consentscope by its FHIR STU3 URL (http://hl7.org/fhir/consentscope)
// is read as written; it failed validation and was read as a denial of
// everything, so the patient's permit for org-a withheld from org-a (QA
// round 30, area B).
func TestPrivacyScopeUnderTheSTU3SystemQA30B(t *testing.T) {
	t.Parallel()
	permit := strings.Replace(upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"),
		"http://terminology.hl7.org/CodeSystem/consentscope", "http://hl7.org/fhir/consentscope", 1)
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	u.fhir.set(200, permit)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("org-a under the permit: %d, want 200", code)
	}
	if code := u.read(tokOther); code != http.StatusNotFound {
		t.Errorf("org-b: %d, want 404", code)
	}
}
