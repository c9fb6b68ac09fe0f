package proxy

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// upstreamConsentWith is upstreamConsent (org-a permitted for TREAT under
// a root deny) with extra put inside the permit provision, after its
// purpose.
func upstreamConsentWith(id, extra string) string {
	s := upstreamConsent(id, "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	const purpose = `"code":"TREAT"}]`
	if !strings.Contains(s, purpose) {
		panic("apiConsent changed")
	}
	return strings.Replace(s, purpose, purpose+extra, 1)
}

// nestedDeny is a deny nested in the permit, naming one security label.
func nestedDeny(system, code string) string {
	return `,"provision":[{"type":"deny","securityLabel":[{"system":"` + system + `","code":"` + code + `"}]}]`
}

const (
	actCode   = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	actReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
)

// TestUpstreamConsentUnknownCodes checks that an upstream consent naming a
// purpose of use or a security label ds4p does not know never widens a
// disclosure (QA round 21): the vocabulary check of written consents was
// not applied to upstream ones, so a deny naming "SUDX" or a purpose
// "TRET" matched nothing and the permit above it disclosed what the deny
// was written to withhold. A permit naming such a code only matches less,
// and the consent's other provisions still count.
func TestUpstreamConsentUnknownCodes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, consent string
		want          int
	}{
		// references: the consent as written discloses, and a deny of a
		// label the condition carries withholds
		{"permit alone", upstreamConsentWith("u1", ""), http.StatusOK},
		{"deny of a known label", upstreamConsentWith("u1", nestedDeny(actCode, "SUD")), http.StatusNotFound},
		{"deny of a label no data carries", upstreamConsentWith("u1", nestedDeny(actCode, "HIV")), http.StatusOK},
		// the defects: each deny matched nothing, and the permit disclosed
		{"deny of a misspelt label", upstreamConsentWith("u1", nestedDeny(actCode, "SUDX")), http.StatusNotFound},
		{"deny of a label in another case", upstreamConsentWith("u1", nestedDeny(actCode, "sud")), http.StatusNotFound},
		{"deny of a sensitivity code under v3-ActReason", upstreamConsentWith("u1", nestedDeny(actReason, "SUD")), http.StatusNotFound},
		{"deny of an unknown purpose", upstreamConsentWith("u1",
			`,"provision":[{"type":"deny","purpose":[{"system":"`+actReason+`","code":"TRET"}]}]`), http.StatusNotFound},
		{"deny under a permit of an unknown label", upstreamConsentWith("u1",
			`,"provision":[{"type":"permit","securityLabel":[{"system":"`+actCode+`","code":"OPIOIDUDX"}],`+
				`"provision":[{"type":"deny","purpose":[{"system":"`+actReason+`","code":"TREAT"}]}]}]`), http.StatusNotFound},
		// a misspelt system was already refused by validation: a denial
		{"deny of a label of a misspelt system", upstreamConsentWith("u1",
			nestedDeny("http://terminology.hl7.org/CodeSystem/v3-ActCodes", "SUD")), http.StatusNotFound},
		// permits naming unknown codes match less, and nothing else changes
		{"a permit's unknown purpose beside a known one", strings.Replace(upstreamConsentWith("u1", ""),
			`"code":"TREAT"}]`, `"code":"TREAT"},{"system":"`+actReason+`","code":"TRET"}]`, 1), http.StatusOK},
		{"a nested permit of an unknown label", upstreamConsentWith("u1",
			`,"provision":[{"type":"deny","securityLabel":[{"system":"`+actCode+`","code":"HIV"}],`+
				`"provision":[{"type":"permit","securityLabel":[{"system":"`+actCode+`","code":"HIVX"}]}]}]`), http.StatusOK},
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
	// A consent permitting for an unknown purpose only is no opt-in.
	t.Run("a permit for an unknown purpose only", func(t *testing.T) {
		t.Parallel()
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
		u.fhir.set(200, strings.Replace(upstreamConsentWith("u1", ""), `"code":"TREAT"`, `"code":"TRET"`, 1))
		if code := u.read(tokConsented); code != http.StatusNotFound {
			t.Errorf("read %d, want 404", code)
		}
	})
}

// TestUpstreamConsentUnknownCodesLogged checks how such a consent is read
// and that it is logged once per version, with paths and no codes or ids.
func TestUpstreamConsentUnknownCodesLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m := &sourcedConsents{s: &Server{log: slog.New(slog.NewJSONHandler(&logs, nil))}}
	deny := upstreamConsentWith("u7", nestedDeny(actCode, "SUDX"))
	n, ok := m.readUpstream([]byte(deny))
	if !ok || !n.Unreadable || len(n.Rules) != 1 || n.Rules[0].Type != "deny" || n.ID != "upstream:u7" || n.Version != "1" ||
		n.Patient != "Patient/p1" || n.Status != "active" {
		t.Fatalf("a deny of an unknown label read as %+v, want a denial keeping the consent's id, version, patient", n)
	}
	m.readUpstream([]byte(deny))
	permit := strings.Replace(upstreamConsentWith("u8", ""), `"code":"TREAT"`, `"code":"TRET"`, 1)
	p, ok := m.readUpstream([]byte(permit))
	if !ok || p.Unreadable || len(p.Rules) != 2 {
		t.Errorf("a permit of an unknown purpose read as %+v, want as written", p)
	}
	out := logs.String()
	if strings.Count(out, "read as a denial") != 1 || strings.Count(out, "permits naming them match nothing") != 1 {
		t.Errorf("want one line for each consent:\n%s", out)
	}
	if !strings.Contains(out, `"provision.provision[0].provision[0].securityLabel"`) || !strings.Contains(out, `"provision.provision[0].purpose"`) {
		t.Errorf("the paths are not named:\n%s", out)
	}
	for _, secret := range []string{"SUDX", "TRET", "u7", "u8", "Patient/p1", "org-a"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log names %q:\n%s", secret, out)
		}
	}
}
