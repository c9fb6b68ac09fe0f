package consent

import (
	"strings"
	"testing"
)

// TestUnreadableReadsAnAbsolutePatientQA29D: the denying stand-in of an
// upstream consent that names its patient by an absolute or versioned
// reference (which validation refuses) names the patient as Patient/<id>.
// It named none, and the sync rounds keep only consents with a patient, so
// an opt-out an EHR wrote so was dropped and withheld nothing (QA round
// 29, area D).
func TestUnreadableReadsAnAbsolutePatientQA29D(t *testing.T) {
	t.Parallel()
	const tmpl = `{"resourceType":"Consent","id":"u9","status":"active","patient":{"reference":"REF"},
	 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	for ref, want := range map[string]string{
		"https://ehr.example/fhir/Patient/p1":              "Patient/p1",
		"http://ehr.example/fhir/R4/Patient/p1/_history/2": "Patient/p1",
		"Patient/p1/_history/2":                            "Patient/p1",
		"Patient/p1":                                       "Patient/p1",
		"urn:uuid:0b2c6f4e-1f1a-4e5b-9a55-6c3f2d1e0a9b":    "",
		"https://ehr.example/fhir/Group/p1":                "",
	} {
		raw := []byte(strings.Replace(tmpl, "REF", ref, 1))
		if ref != "Patient/p1" {
			if _, err := NormalizeUpstream(raw); err == nil {
				t.Fatalf("%s: read as valid; the test needs a consent that fails validation", ref)
			}
		}
		n, ok := Unreadable(raw)
		if !ok || n.Patient != want || n.Rules[0].Type != "deny" {
			t.Errorf("%s: stand-in patient %q (ok %v), want %q", ref, n.Patient, ok, want)
		}
	}
}
