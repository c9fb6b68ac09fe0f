package proxy

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// npiSystem is the system of the NPI org-b goes by in orgDenyReaders'
// second harness.
const npiSystem = "http://hl7.org/fhir/sid/us-npi"

// orgDenyReaders returns two readers of p1's Observation o1 for a token of
// dr-bob (user/*.read, TREAT) with the given org claims: p1 opted out of
// disclosure to Organization/org-b (byRef) or to the organisation with NPI
// 1234567893 (byNPI). The claims map is filled in and signed.
func orgDenyReaders(t *testing.T) (byRef, byNPI func(claims map[string]any) (int, string)) {
	t.Helper()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	reader := func(actor string) func(map[string]any) (int, string) {
		h := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
			d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
			d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(actor)}}}
		})
		return func(claims map[string]any) (int, string) {
			claims["scope"], claims["purpose_of_use"] = "user/*.read", "TREAT"
			resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, "dr-bob", claims))
			return resp.StatusCode, body
		}
	}
	return reader(`{"reference":"Organization/org-b"}`), reader(`{"identifier":{"system":"` + npiSystem + `","value":"1234567893"}}`)
}

// TestOrgClaimBlanksQA41D: p1 opted out of disclosure to org-b. org-b's
// token whose org (or org identifier) a claim template wrote with a stray
// blank around it (" Organization/org-b", a tab, a no-break space, a
// zero-width space or byte-order mark before it) named no one a consent
// names, so the deny matched no one and org-b read p1's Observation (200),
// where the plain claim gets 404. Blanks and characters that show nothing
// are trimmed from both ends of those claims, as from a fhirUser's
// (d90fcd2).
func TestOrgClaimBlanksQA41D(t *testing.T) {
	t.Parallel()
	byRef, byNPI := orgDenyReaders(t)
	if code, _ := byRef(map[string]any{"org": "Organization/org-c"}); code != 200 {
		t.Fatalf("another organisation: %d, want 200", code)
	}
	for _, pad := range [][2]string{{"", ""}, {" ", ""}, {"", " "}, {"\t", "\n"}, {"\u00a0", ""}, {"", "\u00a0"}, {"\u200b", ""}, {"\ufeff", ""}, {"", "\u2060"}} {
		org := pad[0] + "Organization/org-b" + pad[1]
		if code, body := byRef(map[string]any{"org": org}); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("org %q: %d %.100s, want 404 (the patient's deny)", org, code, body)
		}
		id := pad[0] + npiSystem + "|1234567893" + pad[1]
		if code, body := byNPI(map[string]any{"org": "Organization/org-x", "org_identifiers": []any{id}}); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("org_identifiers [%q]: %d %.100s, want 404 (the patient's deny)", id, code, body)
		}
	}
}
