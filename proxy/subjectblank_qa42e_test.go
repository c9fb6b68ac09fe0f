package proxy

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestSubjectBlanksQA42E: p1 opted out of disclosure to Practitioner/dr-x,
// and a consent names a caller by its subject too (an identity provider
// whose sub is the user's FHIR reference, no fhirUser). dr-x's token
// whose sub a claim template wrote with a stray blank (" Practitioner/dr-x",
// a no-break space after it, a zero-width space or byte-order mark before
// it or inside the id) named no one, and dr-x read p1's Observation (200)
// where the plain sub gets 404: the gap 0a9a60b closed for fhirUser. The
// sub is trimmed as the org and fhirUser are, so the ledger records the
// name a consent uses; one of blanks only is no subject (401).
func TestSubjectBlanksQA42E(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72}}`
	h := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) {
		d.Auth, d.Logger = v, slog.New(slog.DiscardHandler)
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOutDenyOf(`{"reference":"Practitioner/dr-x"}`)}}}
	})
	read := func(sub string) (int, string) {
		claims := map[string]any{"org": "Organization/org-c", "scope": "user/*.read", "purpose_of_use": "TREAT"}
		resp, body := h.get("/fhir/Observation/o1", signDevClaims(t, key, sub, claims))
		return resp.StatusCode, body
	}
	if code, _ := read("\u00a0Practitioner/dr-y\u200b"); code != 200 {
		t.Fatalf("another clinician: %d, want 200", code)
	}
	if es := h.ledger.entries; len(es) != 1 || es[0].Caller.Subject != "Practitioner/dr-y" {
		t.Errorf("ledger: %+v, want one entry for Practitioner/dr-y", es)
	}
	for _, sub := range []string{"Practitioner/dr-x", " Practitioner/dr-x", "Practitioner/dr-x\u00a0", "\u200bPractitioner/dr-x", "\ufeffPractitioner/dr-x", "Practitioner/dr\u200b-x", "\tPractitioner/dr-x\n"} {
		if code, body := read(sub); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("sub %q: %d %.100s, want 404 (the patient's deny)", sub, code, body)
		}
	}
	for _, sub := range []string{" ", "\u200b", "\t\ufeff"} {
		if code, body := read(sub); code != 401 || strings.Contains(body, `"o1"`) {
			t.Errorf("sub %q: %d %.100s, want 401 (no subject)", sub, code, body)
		}
	}
}
