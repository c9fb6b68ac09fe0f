package proxy

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestFHIRUserBlanksQA41G: p1 opted out of disclosure to Practitioner/dr-x.
// 0c07460 trims blanks and invisible characters from the org, org
// identifier and client claims, but not from fhirUser, the claim a consent
// names a clinician by: dr-x's token whose fhirUser a claim template wrote
// with a stray blank (" Practitioner/dr-x", a no-break space after it, a
// zero-width space or byte-order mark before it or inside the id) named
// no one, and dr-x read p1's Observation (200) where the plain claim gets
// 404.
func TestFHIRUserBlanksQA41G(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
		d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(`{"reference":"Practitioner/dr-x"}`)}}}
	})
	read := func(fhirUser string) (int, string) {
		claims := map[string]any{"org": "Organization/org-c", "fhirUser": fhirUser, "scope": "user/*.read", "purpose_of_use": "TREAT"}
		resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, "5f0c9a52-opaque", claims))
		return resp.StatusCode, body
	}
	if code, _ := read("Practitioner/dr-y"); code != 200 {
		t.Fatalf("another clinician: %d, want 200", code)
	}
	for _, fu := range []string{"Practitioner/dr-x", " Practitioner/dr-x", "Practitioner/dr-x\u00a0", "\u200bPractitioner/dr-x", "\ufeffPractitioner/dr-x", "Practitioner/dr\u200b-x", "\tPractitioner/dr-x\n"} {
		if code, body := read(fu); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("fhirUser %q: %d %.100s, want 404 (the patient's deny)", fu, code, body)
		}
	}
}
