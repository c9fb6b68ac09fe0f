package proxy

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// optOutDenyOf is p1's general opt-out consent (OPTOUT): permit all, deny
// the actor whose reference (a FHIR Reference's JSON) is given.
func optOutDenyOf(ref string) consent.Record {
	raw := `{"resourceType":"Consent","id":"d1","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},
	"provision":{"type":"permit","provision":[{"type":"deny",
	"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":` + ref + `}]}]}}`
	return consent.Record{ID: "d1", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

// TestNonStringOrgClaimRefusedQA41D: p1 opted out of disclosure to org-b
// (a deny naming Organization/org-b, or its NPI). org-b's token whose org
// or org_identifiers claim an identity provider's mapper wrote as an array
// or an object (["Organization/org-b"], [{"system":...,"value":...}]) was
// read as naming no organisation, so the deny matched no one and org-b
// read p1's Observation (200), where the same token with a string claim
// gets 404. Such a claim is refused (401), as a fhirUser that is not a
// string is.
func TestNonStringOrgClaimRefusedQA41D(t *testing.T) {
	t.Parallel()
	const npi = "http://hl7.org/fhir/sid/us-npi"
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	for _, tt := range []struct {
		name, deny string
		claims     map[string]any // org-b's, as its IdP might write them
		want       int
	}{
		{"another organisation", `{"reference":"Organization/org-b"}`, map[string]any{"org": "Organization/org-c"}, 200},
		{"string org", `{"reference":"Organization/org-b"}`, map[string]any{"org": "Organization/org-b"}, 404},
		{"org null: none", `{"reference":"Organization/org-b"}`, map[string]any{"org": json.RawMessage("null")}, 200},
		{"string identifier", `{"identifier":{"system":"` + npi + `","value":"1234567893"}}`, map[string]any{"org_identifiers": []any{npi + "|1234567893"}}, 404},
		// the defect: each was read as no organisation (200)
		{"org array", `{"reference":"Organization/org-b"}`, map[string]any{"org": []any{"Organization/org-b"}}, 401},
		{"org object", `{"reference":"Organization/org-b"}`, map[string]any{"org": map[string]any{"reference": "Organization/org-b"}}, 401},
		{"identifier objects", `{"identifier":{"system":"` + npi + `","value":"1234567893"}}`,
			map[string]any{"org_identifiers": []any{map[string]any{"system": npi, "value": "1234567893"}}}, 401},
		{"identifier number", `{"identifier":{"system":"` + npi + `","value":"1234567893"}}`,
			map[string]any{"org_identifiers": 1234567893}, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
				d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
				d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(tt.deny)}}}
			})
			claims := map[string]any{"scope": "user/*.read", "purpose_of_use": "TREAT"}
			for k, c := range tt.claims {
				claims[k] = c
			}
			resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, "dr-bob", claims))
			if resp.StatusCode != tt.want || tt.want != 200 && strings.Contains(body, `"o1"`) {
				t.Errorf("%d %.200s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
}
