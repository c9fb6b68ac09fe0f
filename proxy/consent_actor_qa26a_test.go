package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestUpstreamConsentDenyOfAbsoluteActorWithholds: an upstream consent
// (written by the EHR, whose references are often absolute) whose deny
// names the recipient by an absolute URL or a versioned reference
// withholds from that recipient. Callers are matched as Type/id, so such
// a deny matched no one and the permit above it disclosed what the deny
// was written to withhold (QA round 26, area A). Written consents refuse
// such references; upstream ones are read as the EHR wrote them.
func TestUpstreamConsentDenyOfAbsoluteActorWithholds(t *testing.T) {
	t.Parallel()
	deny := func(ref string) string {
		return `,"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},` +
			`"reference":{"reference":"` + ref + `"}}]}]`
	}
	for _, tt := range []struct {
		name, consent string
		want          int
	}{
		{"permit alone", upstreamConsentWith("u1", ""), http.StatusOK},
		{"deny by relative reference", upstreamConsentWith("u1", deny("Organization/org-a")), http.StatusNotFound},
		{"deny of another organisation", upstreamConsentWith("u1", deny("https://ehr.example/fhir/Organization/org-b")), http.StatusOK},
		// the defects: each deny matched no caller
		{"deny by absolute URL", upstreamConsentWith("u1", deny("https://ehr.example/fhir/Organization/org-a")), http.StatusNotFound},
		{"deny by versioned reference", upstreamConsentWith("u1", deny("Organization/org-a/_history/3")), http.StatusNotFound},
		{"deny by absolute versioned URL", upstreamConsentWith("u1", deny("http://ehr.example/fhir/R4/Organization/org-a/_history/3")), http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
			u.fhir.set(200, tt.consent)
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("read %d, want %d", code, tt.want)
			}
		})
	}
}
