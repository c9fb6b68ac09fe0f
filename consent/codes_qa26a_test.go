package consent

import (
	"slices"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestClinicalSystemSpellings: the spellings of a clinical system that
// FHIR servers accept and the labeller reads as one are read as its
// canonical URL (labels.CodeSystem, which consent shares with the
// labeller); other systems stay as written, trimmed.
func TestClinicalSystemSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"http://snomed.info/sct":                           "http://snomed.info/sct",
		"urn:oid:2.16.840.1.113883.6.96":                   "http://snomed.info/sct",
		"URN:OID:2.16.840.1.113883.6.96":                   "http://snomed.info/sct",
		"https://snomed.info/sct/":                         "http://snomed.info/sct",
		"http://snomed.info/sct/731000124108":              "http://snomed.info/sct",
		" http://loinc.org ":                               "http://loinc.org",
		"https://www.loinc.org":                            "http://loinc.org",
		"2.16.840.1.113883.6.88":                           "http://www.nlm.nih.gov/research/umls/rxnorm",
		"https://nlm.nih.gov/research/umls/rxnorm":         "http://www.nlm.nih.gov/research/umls/rxnorm",
		"http://hl7.org/fhir/sid/icd-10-cm|2026":           "http://hl7.org/fhir/sid/icd-10-cm",
		"urn:oid:2.16.840.1.113883.6.3":                    "http://hl7.org/fhir/sid/icd-10",
		"urn:oid:2.16.840.1.113883.6.103":                  "http://hl7.org/fhir/sid/icd-9-cm",
		"urn:oid:2.16.840.1.113883.6.14":                   "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
		"http://example.org/codes":                         "http://example.org/codes",
		"urn:oid:1.2.3":                                    "urn:oid:1.2.3",
		"http://hl7.org/fhir/sid/icd-10-cm-extra":          "http://hl7.org/fhir/sid/icd-10-cm-extra",
		"http://snomed.info/sct/x":                         "http://snomed.info/sct/x",
		"http://terminology.hl7.org/CodeSystem/v3-ActCode": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
	} {
		if got := labels.CodeSystem(in); got != want {
			t.Errorf("labels.CodeSystem(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestProvisionCodeKeepsBothSpellings: a provision.code naming its system
// by OID reaches the policy under the canonical URL and as written.
func TestProvisionCodeKeepsBothSpellings(t *testing.T) {
	raw := []byte(`{"resourceType":"Consent","id":"c1","status":"active","patient":{"reference":"Patient/p1"},
	 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
	 "provision":{"provision":[{"type":"deny","code":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.6.96","code":"191816009"}]}]}]}}`)
	n, err := Normalize(Record{ID: "c1", Version: 1, JSON: raw})
	if err != nil {
		t.Fatal(err)
	}
	got := n.Rules[1].Conditions[1].Codes
	for _, want := range []string{"urn:oid:2.16.840.1.113883.6.96|191816009", "http://snomed.info/sct|191816009"} {
		if !slices.Contains(got, want) {
			t.Errorf("codes %q lack %q", got, want)
		}
	}
}
