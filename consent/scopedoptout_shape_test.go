package consent

import "testing"

// TestScopedOptOutOfAnUnreadableShape: a research consent whose policyRule
// is written as an array (R4 takes one CodeableConcept) may name an
// opt-out; it was left out, as a research opt-in is. It is now a denial of
// everything, as an unreadable privacy consent is; a readable research
// opt-in is still left out, and so is an inactive one.
func TestScopedOptOutOfAnUnreadableShape(t *testing.T) {
	t.Parallel()
	const head = `{"resourceType":"Consent","id":"r1","meta":{"versionId":"1"},"patient":{"reference":"Patient/p1"},` +
		`"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"research"}]},` +
		`"category":[{"coding":[{"system":"http://loinc.org","code":"57016-8"}]}],`
	arrayRule := head + `"status":"active","policyRule":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}]}`
	n, ok := ScopedOptOut([]byte(arrayRule))
	if !ok || !n.Unreadable || n.Patient != "Patient/p1" {
		t.Errorf("a research consent whose policyRule is an array: %+v %v, want a denying stand-in for Patient/p1", n, ok)
	}
	optIn := head + `"status":"active","policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]}}`
	if _, ok := ScopedOptOut([]byte(optIn)); ok {
		t.Error("a research opt-in is read as a denial")
	}
	inactive := head + `"status":"inactive","policyRule":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}]}`
	if _, ok := ScopedOptOut([]byte(inactive)); ok {
		t.Error("an inactive research consent of an unreadable shape is read as a denial")
	}
}
