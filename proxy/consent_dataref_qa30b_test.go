package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// TestForeignDataPermitMatchesNothingQA30B: an upstream consent permits
// org-a one record, named by provision.data. Named under another server's
// base (https://hie.example/fhir/Condition/sud1), it names that server's
// record, not this one's Condition/sud1: it was read as the local one and
// org-a read the patient's SUD condition. Relative, or under the upstream's
// own base, it names the local record and permits it. A deny of the other
// server's record still withholds the local one of that Type/id (a base not
// known as this server's may still be it: consent.SetLocalServer). Not
// parallel: the test of local bases is process-wide (QA round 30, area B).
func TestForeignDataPermitMatchesNothingQA30B(t *testing.T) {
	defer consent.SetLocalServer(nil)
	const permitOne = `{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
	  "provision":{"type":"deny","provision":[{"type":"permit",
	    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	    "data":[{"meaning":"instance","reference":{"reference":"REF"}}]}]}}`
	const denyOne = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
	  "provision":{"provision":[{"type":"deny","data":[{"meaning":"instance","reference":{"reference":"https://hie.example/fhir/Condition/sud1"}}]}]}}`
	for _, tt := range []struct {
		name, ref string
		deny      bool
		want      int
	}{
		{"relative", "Condition/sud1", false, http.StatusOK},
		{"under the upstream's base", "BASE/Condition/sud1", false, http.StatusOK},
		{"a version under the upstream's base", "BASE/Condition/sud1/_history/2", false, http.StatusOK},
		{"another server's record", "https://hie.example/fhir/Condition/sud1", false, http.StatusNotFound},
		{"a version of another server's record", "https://hie.example/fhir/Condition/sud1/_history/2", false, http.StatusNotFound},
		{"another path of the upstream's server", "BASE/../other/Condition/sud1", false, http.StatusNotFound},
		{"relative, beside a deny naming another server's record", "Condition/sud1", true, http.StatusNotFound},
	} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
		base := u.upstream.URL + "/fhir/R4"
		ref := strings.Replace(tt.ref, "BASE/../other", u.upstream.URL+"/other", 1)
		ref = strings.Replace(ref, "BASE", base, 1)
		consents := []string{strings.Replace(permitOne, "REF", ref, 1)}
		if tt.deny {
			consents = append(consents, denyOne)
		}
		u.fhir.set(200, consents...)
		if code := u.read(tokConsented); code != tt.want {
			t.Errorf("%s: org-a read the SUD condition: %d, want %d", tt.name, code, tt.want)
		}
	}
}

// TestPermitActorUnderTheUpstreamsBaseQA30B: an upstream consent's permit
// naming its recipient by URL under the upstream's own base (the EHR
// naming its party as it serves it) permits that party; it kept the
// reference as written and matched no caller, so org-a was refused what the
// patient gave it. Under another server's base it still matches no one.
// Not parallel: the test of local bases is process-wide (QA round 30,
// area B).
func TestPermitActorUnderTheUpstreamsBaseQA30B(t *testing.T) {
	defer consent.SetLocalServer(nil)
	for _, tt := range []struct {
		name, org string
		want      int
	}{
		{"relative", "Organization/org-a", http.StatusOK},
		{"under the upstream's base", "BASE/Organization/org-a", http.StatusOK},
		{"a version under the upstream's base", "BASE/Organization/org-a/_history/3", http.StatusOK},
		{"under another server's base", "https://hie.example/fhir/Organization/org-a", http.StatusNotFound},
	} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
		org := strings.Replace(tt.org, "BASE", u.upstream.URL+"/fhir/R4", 1)
		u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", org))
		if code := u.read(tokConsented); code != tt.want {
			t.Errorf("%s: org-a %d, want %d", tt.name, code, tt.want)
		}
	}
}
