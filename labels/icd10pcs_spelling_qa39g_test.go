package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestICD10PCSSpellingsQA39G: the ICD-10-PCS rules of c966709 match the
// system's canonical URL only, where every other clinical system the rules
// name is read in its OID, https, trailing-slash and any-case spellings
// (codeSystem). An inpatient detoxification coded with ICD-10-PCS's OID
// (urn:oid:2.16.840.1.113883.6.4, what C-CDA converters write) went out
// ordinary; so did a lower-case code (keyUpper, as HCPCS is read), and
// so did the spelling modelled on ICD-10-CM's URL that OMOP-to-FHIR mappers
// and many feeds write, http://hl7.org/fhir/sid/icd-10-pcs (QA round 39,
// area J). ICD-10-CM and WHO ICD-10, whose URLs it begins with, are read as
// before.
func TestICD10PCSSpellingsQA39G(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for _, c := range []struct{ system, code, topic string }{
		{"urn:oid:2.16.840.1.113883.6.4", "HZ2ZZZZ", "SUD"},
		{"https://www.cms.gov/Medicare/Coding/ICD10", "HZ81ZZZ", "SUD"},
		{"http://www.cms.gov/Medicare/Coding/ICD10/", "GZB0ZZZ", "MH"},
		{"http://cms.gov/medicare/coding/icd10", "HZ2ZZZZ", "SUD"},
		{"http://www.cms.gov/Medicare/Coding/ICD10", "hz2zzzz", "SUD"},
		{"http://www.cms.gov/Medicare/Coding/ICD10", " gzb0zzz ", "MH"},
		{"http://hl7.org/fhir/sid/icd-10-pcs", "HZ2ZZZZ", "SUD"},
		{"https://hl7.org/fhir/sid/icd-10-pcs", "hz81zzz", "SUD"},
		{"http://hl7.org/fhir/sid/ICD-10-PCS/", "GZB0ZZZ", "MH"},
		{"http://hl7.org/fhir/sid/icd-10-cm", "F11.20", "SUD"},
		{"http://hl7.org/fhir/sid/icd-10", "F11.2", "SUD"},
	} {
		in := `{"resourceType":"Procedure","status":"completed","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + c.system + `","code":"` + c.code + `"}]}}`
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: c.topic}) {
			t.Errorf("%s %q: labels %v, want %s", c.system, c.code, r.Labels, c.topic)
		}
	}
}
