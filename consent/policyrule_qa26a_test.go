package consent

import (
	"strings"
	"testing"
)

// TestPolicyRuleRespeltSystemRefused: a policyRule of v3-ActCode spelt as
// FHIR servers accept (https, a trailing slash, another case, a |version)
// but not as the consent's base rule reads it is refused where a consent is
// written. It was stored unchecked: "OPTOUTT" under it, a misspelt opt-out,
// withheld none of the patient's ordinary records, and "OPTIN" under it
// was read as no opt-in at all (a deny of everything), while the same code
// from the upstream is held to the vocabulary (QA round 26, area A).
func TestPolicyRuleRespeltSystemRefused(t *testing.T) {
	const tmpl = `{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p1"},
	 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	 "policyRule":{"coding":[{"system":"SYSTEM","code":"CODE"}]}}`
	ok := func(system, code string) error {
		_, err := Validate([]byte(strings.NewReplacer("SYSTEM", system, "CODE", code).Replace(tmpl)))
		return err
	}
	for _, system := range []string{actCodeSystem, "http://hl7.org/fhir/v3/ActCode", "urn:oid:2.16.840.1.113883.5.4"} {
		if err := ok(system, "OPTOUT"); err != nil {
			t.Errorf("%s OPTOUT: %v", system, err)
		}
	}
	for _, system := range []string{
		"https://terminology.hl7.org/CodeSystem/v3-ActCode",
		"http://terminology.hl7.org/CodeSystem/v3-ActCode/",
		"http://terminology.hl7.org/CodeSystem/v3-ActCode|2.0.0",
		"2.16.840.1.113883.5.4",
	} {
		for _, code := range []string{"OPTOUTT", "OPTIN", "OPTOUT"} {
			err := ok(system, code)
			if err == nil || !strings.Contains(err.Error(), "Consent.policyRule.coding[0].system") {
				t.Errorf("%s %s: %v", system, code, err)
			}
		}
	}
	// Another organisation's policy system is its own business.
	if err := ok("http://example.org/policies", "OPTOUTT"); err != nil {
		t.Errorf("own policy system: %v", err)
	}
}
