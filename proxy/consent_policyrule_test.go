package proxy

import (
	"bytes"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// generalConsent is an upstream general consent of patient p1 with one
// policyRule coding and no provision: its root's type comes from the
// policy (OPTIN permits, OPTOUT and anything else deny).
func generalConsent(system, code string) string {
	return `{"resourceType":"Consent","id":"g1","meta":{"versionId":"1"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

// TestUpstreamConsentUnknownPolicy: an upstream general opt-out whose
// policyRule code is misspelt ("OPTOUTT") did not count as a general
// consent, so the patient's ordinary records flowed as if it were not
// there. A v3-ActCode policy code ds4p does not know now reads as a denial
// and a general opt-out; an organisation's own policy codes are not
// checked.
func TestUpstreamConsentUnknownPolicy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, consent string
		want          int
	}{
		{"no consent", "", http.StatusOK},
		{"an opt-in", generalConsent(actCode, "OPTIN"), http.StatusOK},
		{"an opt-out", generalConsent(actCode, "OPTOUT"), http.StatusNotFound},
		{"a misspelt opt-out", generalConsent(actCode, "OPTOUTT"), http.StatusNotFound},
		{"an opt-out in another case", generalConsent(actCode, "optout"), http.StatusNotFound},
		{"a misspelt opt-out under the legacy system", generalConsent("http://hl7.org/fhir/v3/ActCode", "OPT-OUT"), http.StatusNotFound},
		{"a misspelt opt-out that also fails validation", strings.Replace(generalConsent(actCode, "OPTOUTT"), `"status":"active"`, `"status":"active","provision":{"type":"sideways"}`, 1), http.StatusNotFound},
		{"an organisation's own policy", generalConsent("https://hospital.example/policies", "research-2024"), http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
			if tt.consent != "" {
				u.fhir.set(200, tt.consent)
			}
			resp, body := u.get("/fhir/Condition/htn1", tokOther)
			if resp.StatusCode != tt.want {
				t.Errorf("the ordinary condition: %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
		})
	}
}

// TestUpstreamConsentUnknownPolicyLogged: such a consent keeps its id,
// version and patient, is logged once per version with the code's path
// only, and keeps the policies it names beside OPTOUT.
func TestUpstreamConsentUnknownPolicyLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m := &sourcedConsents{s: &Server{log: slog.New(slog.NewJSONHandler(&logs, nil))}}
	raw := []byte(generalConsent(actCode, "OPTOUTT"))
	n, ok := m.readUpstream(raw)
	if !ok || !n.Unreadable || len(n.Rules) != 1 || n.Rules[0].Type != "deny" || n.ID != "upstream:g1" || n.Version != "1" ||
		n.Patient != "Patient/p1" || !slices.Equal(n.Policies, []string{"OPTOUTT", "OPTOUT"}) {
		t.Fatalf("read as %+v, want a general denial keeping the consent's id, version, patient and policy", n)
	}
	m.readUpstream(raw)
	out := logs.String()
	if strings.Count(out, "a policy (policyRule) ds4p does not know") != 1 || !strings.Contains(out, `"policyRule.coding[0].code"`) {
		t.Errorf("want one line naming the path:\n%s", out)
	}
	for _, secret := range []string{"OPTOUTT", "g1", "Patient/p1"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log names %q:\n%s", secret, out)
		}
	}
}
