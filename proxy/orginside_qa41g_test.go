package proxy

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestOrgClaimInvisibleInsideQA41G: p1 opted out of disclosure to org-b.
// 0c07460 trims blanks and invisible characters around the org and
// org_identifiers claims, but one inside the value (a claim template
// "Organization/{org}" over an attribute holding "\u200borg-b", a soft
// hyphen, a byte-order mark or word joiner in the id) still named no one a
// consent names: org-b read p1's Observation (200) where the plain claim
// gets 404. Characters that show nothing are dropped wherever they stand.
func TestOrgClaimInvisibleInsideQA41G(t *testing.T) {
	t.Parallel()
	const npi = "http://hl7.org/fhir/sid/us-npi"
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	byRef := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
		d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(`{"reference":"Organization/org-b"}`)}}}
	})
	byNPI := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
		d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(`{"identifier":{"system":"` + npi + `","value":"1234567893"}}`)}}}
	})
	read := func(h *harness, claims map[string]any) (int, string) {
		claims["scope"], claims["purpose_of_use"] = "user/*.read", "TREAT"
		resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, "dr-bob", claims))
		return resp.StatusCode, body
	}
	for _, org := range []string{"Organization/\u200borg-b", "Organization/org\u00ad-b", "Organization\u2060/org-b", "Organization/org-\ufeffb"} {
		if code, body := read(byRef, map[string]any{"org": org}); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("org %q: %d %.100s, want 404 (the patient's deny)", org, code, body)
		}
	}
	for _, id := range []string{npi + "|\u200b1234567893", npi + "\u200b|1234567893", npi + "|12345\u00ad67893"} {
		if code, body := read(byNPI, map[string]any{"org": "Organization/org-x", "org_identifiers": []any{id}}); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("org_identifiers [%q]: %d %.100s, want 404 (the patient's deny)", id, code, body)
		}
	}
}
