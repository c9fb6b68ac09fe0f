package proxy

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestOrgClaimSpellingsQA41H (QA round 41, helper H, D's proposal): p1
// opted out of disclosure to org-b. The org claim was compared as sent, so
// org-b's token naming its organisation by an absolute URL of this FHIR
// server, with a trailing slash, in a lower-case type or by a version
// (Organization/org-b/_history/1) named no one the deny names, and org-b
// read p1's Observation (200). The claim is read as Type/id where it is a
// reference (a URL only below this server's base); a spelling that is no
// reading of one is refused (401). A plain id, system|value and a
// urn:oid: are taken as sent, as before.
func TestOrgClaimSpellingsQA41H(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := newHarness(t, fhirJSONHandler(200, obs), func(o *Options, d *Deps) {
		d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(`{"reference":"Organization/org-b"}`)}}}
	})
	read := func(org string) (int, string) {
		claims := map[string]any{"org": org, "scope": "user/*.read", "purpose_of_use": "TREAT"}
		resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, "dr-bob", claims))
		return resp.StatusCode, body
	}
	base := h.base()
	for _, tc := range []struct {
		org  string
		want int
	}{
		// as before
		{"Organization/org-b", 404},
		{"Organization/org-c", 200},
		{"org-b", 200}, // a plain id: taken as sent (names no consent's Organization/org-b)
		{"http://hl7.org/fhir/sid/us-npi|1234567893", 200},
		{"urn:oid:2.16.840.1.113883.19.5", 200},
		// the defect: each read p1's Observation (200)
		{base + "/Organization/org-b", 404},
		{base + "/Organization/org-b/_history/1", 404},
		{"Organization/org-b/_history/1", 404},
		{base + "/Organization/org-c", 200},
		{"Organization/org-b/", 401},
		{"organization/org-b", 401},
		{"ORGANIZATION/org-b", 401},
		{base + "/Organization/org-b/", 401},
		{base + "/organization/org-b", 401},
		{base + "/Organization/org-b?x=1", 401},
		{"https://other.example/fhir/Organization/org-b", 401}, // another server's org-b is not this one's
		{"Organization//org-b", 401},
		{"/Organization/org-b", 401},
		{"Organization/org-b/x", 401},
		{"Organization%2Forg-b", 401},
		{"Organization\uff0forg-b", 401},
		{"Organization/org b", 401},
		{"Organisation/org-b", 401}, // no FHIR type
	} {
		code, body := read(tc.org)
		if code != tc.want || code != 200 && strings.Contains(body, `"o1"`) {
			t.Errorf("org %q: %d %.120s, want %d", tc.org, code, body, tc.want)
		}
	}
}
