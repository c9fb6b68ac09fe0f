package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAttachedNumericCodeQA32F: a code written as a JSON number in an
// attachment's FHIR JSON is matched by its digits, as one in the resource
// itself is (a3bf0e7; QA round 32, area F): a DocumentReference holding a
// Condition of SNOMED 86406008 (HIV) or a MedicationRequest of RxNorm
// 1819 (buprenorphine), so written, went out as ordinary data.
func TestAttachedNumericCodeQA32F(t *testing.T) {
	t.Parallel()
	doc := func(inner string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` +
			base64.StdEncoding.EncodeToString([]byte(inner)) + `"}}]}`
	}
	cases := []struct {
		name, in string
		want     labels.Label
	}{
		{"HIV condition", doc(`{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":86406008}]}}`),
			labels.Label{System: labels.SystemActCode, Code: "HIV"}},
		{"buprenorphine order, code first", doc(`{"resourceType":"MedicationRequest","medicationCodeableConcept":{"coding":[{"code":1819,"system":"http://www.nlm.nih.gov/research/umls/rxnorm"}]}}`),
			labels.Label{System: labels.SystemActCode, Code: "SUD"}},
	}
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !r.Labels.Has(c.want) {
			t.Errorf("%s: labels %v; want %v", c.name, r.Labels, c.want)
		}
	}
	// A negative number or a fraction is no code of these rules.
	if r, err := l.Label([]byte(doc(`{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":-86406008}]}}`))); err != nil || len(r.Labels) != 0 {
		t.Errorf("negative: %v %v; want no label", r.Labels, err)
	}
}
