package consent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActorReferenceMustBeRelative: a consent written with an actor
// reference the policy could never match a caller against (absolute URL,
// version, conditional, unknown type) is refused with the path of the
// actor, R4 and R5 alike; Type/id and identifiers are accepted. QA round 20:
// an opt-in with a deny of "https://ehr.example/fhir/Organization/org-a" was
// stored, and org-a (whose token says Organization/org-a) still got the
// patient's records.
func TestActorReferenceMustBeRelative(t *testing.T) {
	t.Parallel()
	const r4Path = "Consent.provision.provision[0].actor[0].reference.reference"
	for _, ref := range []string{
		"https://ehr.example/fhir/Organization/x",
		"Organization/x/_history/2",
		"Organization?identifier=http://hl7.org/fhir/sid/us-npi|1234567893",
		"Organisation/x",
		"x",
	} {
		raw := strings.Replace(tpoConsent, `"reference": "Organization/x"`, `"reference": "`+ref+`"`, 1)
		if raw == tpoConsent {
			t.Fatal("the test consent names no Organization/x")
		}
		_, err := Validate([]byte(raw))
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), r4Path) || !strings.Contains(err.Error(), "would match no one") {
			t.Errorf("%s: %v", ref, err)
		}
	}
	for _, ok := range []string{"Organization/x", "Practitioner/dr-1", "CareTeam/ct.1"} {
		raw := strings.Replace(tpoConsent, `"reference": "Organization/x"`, `"reference": "`+ok+`"`, 1)
		if _, err := Validate([]byte(raw)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}

	// R5: the problem is reported at the R5 path.
	raw, err := os.ReadFile(filepath.Join("testdata", "r5", "tpo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(raw); err != nil {
		t.Fatalf("r5/tpo.json: %v", err)
	}
	const actor = `"reference": {"reference": "Organization/x"}`
	k := strings.LastIndex(string(raw), actor)
	if k < 0 || !strings.Contains(string(raw[:k]), `"provision"`) {
		t.Fatal("r5/tpo.json names no provision actor Organization/x")
	}
	bad := string(raw[:k]) + `"reference": {"reference": "http://ehr.example/fhir/Organization/x"}` + string(raw[k+len(actor):])
	if _, err := Validate([]byte(bad)); err == nil || !strings.Contains(err.Error(), "Consent.provision[0].actor[0].reference.reference") {
		t.Errorf("R5 absolute actor: %v", err)
	}
}
