package proxy

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestOrgClaimOpaqueIDsQA41J (QA round 41, helper J, review of H-2): a
// site whose IdP names the organisation by an opaque id that is no FHIR id
// (Auth0's org_id "org_W4u3Dm6l0qVvJ7ZH", an id over 64 characters, a name
// with a space) was refused (401) once the org claim was read as Type/id:
// such a claim holds no slash, so it is no spelling of a reference a
// consent names, and is taken as sent, as a plain id is. Every spelling of
// Organization/org-b stays read or refused as H-2 reads it.
func TestOrgClaimOpaqueIDsQA41J(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	alias, _ := url.Parse("https://ehr.example.org/fhir/R4")
	h := newHarness(t, fhirJSONHandler(200, obs), func(o *Options, d *Deps) {
		o.UpstreamAliases = []*url.URL{alias}
		o.PublicBaseURL = "https://fhir.example.org/fhir"
		d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(`{"reference":"Organization/org-b"}`)}}}
	})
	read := func(org string) (int, string) {
		claims := map[string]any{"org": org, "scope": "user/*.read", "purpose_of_use": "TREAT"}
		resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, "dr-bob", claims))
		return resp.StatusCode, body
	}
	for _, tc := range []struct {
		org  string
		want int
	}{
		// opaque ids real IdPs send: no slash, taken as sent (200, as before H-2)
		{"org_W4u3Dm6l0qVvJ7ZH", 200},                 // Auth0 org_id
		{strings.Repeat("a1", 40), 200},               // an id over 64 characters
		{"St Marys Hospital", 200},                    // a name
		{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", 200}, // Entra tenant GUID
		{"urn:ietf:rfc:3986", 200},                    // a URN of another kind
		// spellings of Organization/org-b: the deny (404) or refused (401)
		{"https://ehr.example.org/fhir/R4/Organization/org-b", 404},
		{"https://fhir.example.org/fhir/Organization/org-b", 404},
		{"https://EHR.example.org:443/fhir/R4/Organization/org-b", 404},
		{"https://ehr.example.org/fhir/R4/Organization/org-b#x", 401},
		{"https://ehr.example.org/fhir/R4/Organization/org-b?x", 401},
		{"https://ehr.example.org/fhir/R4/x/../Organization/org-b", 401},
		{"https://ehr.example.org/fhir/R4/Organization/%6Frg-b", 401},
		{"Organization/org-b?x", 401},
		{"Organization/org-b#x", 401},
		{"Organization/%6Frg-b", 401},
		{"Organization\u2215org-b", 401},
		{"HTTPS://ehr.example.org/fhir/R4/Organization/org-b", 401},
		{"http://hl7.org/fhir/sid/us-npi|1234567893", 200},
		{"|1234567893", 401},
	} {
		code, body := read(tc.org)
		if code != tc.want || code != 200 && strings.Contains(body, `"o1"`) {
			t.Errorf("org %q: %d %.120s, want %d", tc.org, code, body, tc.want)
		}
	}
}
