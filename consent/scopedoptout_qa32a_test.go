package consent

import "testing"

// TestScopedOptOutSpellingsQA32A: a research, treatment or adr consent
// whose policyRule names an opt-out is read as a denial (ScopedOptOut),
// but only under the v3-ActCode system as written: an OPTOUT with no
// system, or under the code system's https or trailing-slash spelling,
// was left out, though a privacy consent's policyRule is read by its code
// whatever the system (policies).
func TestScopedOptOutSpellingsQA32A(t *testing.T) {
	t.Parallel()
	const head = `{"resourceType":"Consent","id":"r1","meta":{"versionId":"1"},"patient":{"reference":"Patient/p1"},` +
		`"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"treatment"}]},` +
		`"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"status":"active",`
	for name, rule := range map[string]string{
		"the current system (control)": `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}`,
		"the OID":                      `{"coding":[{"system":"urn:oid:2.16.840.1.113883.5.4","code":"OPTOUT"}]}`,
		"no system":                    `{"coding":[{"code":"OPTOUT"}]}`,
		"https":                        `{"coding":[{"system":"https://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}`,
		"a trailing slash":             `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode/","code":"OPTOUT"}]}`,
	} {
		if _, ok := ScopedOptOut([]byte(head + `"policyRule":` + rule + `}`)); !ok {
			t.Errorf("%s: an opt-out under scope treatment is left out", name)
		}
	}
}
