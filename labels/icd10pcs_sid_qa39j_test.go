package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestICD10PCSSidSpellingQA39J: ICD-10-PCS is often written
// http://hl7.org/fhir/sid/icd-10-pcs, after ICD-10-CM's URL (OMOP-to-FHIR
// mappers, many feeds): a Procedure coded HZ2ZZZZ (detoxification services
// for substance abuse treatment) or GZB0ZZZ (electroconvulsive therapy)
// under it went out ordinary, where c0acdf8 reads the OID and the CMS
// URL's spellings. ICD-10-CM and WHO ICD-10, whose URLs it begins with, are
// read as before.
func TestICD10PCSSidSpellingQA39J(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for _, c := range []struct{ system, code, topic string }{
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
