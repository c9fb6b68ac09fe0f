package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestPlaceOfServiceQA31A: a claim line's CMS place of service (Claim and
// ExplanationOfBenefit item.locationCodeableConcept) of a substance abuse
// or opioid treatment facility (55, 57, 58) tells SUD care, and of a
// psychiatric facility or community mental health center (51, 52, 53,
// 56) mental health care, whatever the billing code; such a claim was
// ordinary and went to any payer. An office (11) stays ordinary, and so
// does a Location typed by the same code (directory data).
func TestPlaceOfServiceQA31A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	const pos = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	item := func(code string) string {
		return `"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]},"locationCodeableConcept":{"coding":[{"system":"` + pos + `","code":"` + code + `"}]}}]`
	}
	claim := func(code string) string {
		return `{"resourceType":"Claim","status":"active","patient":{"reference":"Patient/p1"},` + item(code) + `}`
	}
	eob := func(code string) string {
		return `{"resourceType":"ExplanationOfBenefit","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},` + item(code) + `}`
	}
	for _, c := range []struct {
		name, in string
		sud, mh  bool
	}{
		{"claim, residential substance abuse facility", claim("55"), true, false},
		{"claim, non-residential substance abuse facility", claim("57"), true, false},
		{"explanation of benefit, opioid treatment facility", eob("58"), true, false},
		{"claim, inpatient psychiatric facility", claim("51"), false, true},
		{"explanation of benefit, partial hospitalization", eob("52"), false, true},
		{"claim, community mental health center", claim("53"), false, true},
		{"claim, psychiatric residential treatment center", claim("56"), false, true},
		{"claim, office", claim("11"), false, false},
		{"location of the directory", `{"resourceType":"Location","type":[{"coding":[{"system":"` + pos + `","code":"57"}]}]}`, false, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud || r.Labels.Has(mh) != c.mh {
			t.Errorf("%s: labels %v, elements %v, %v; want SUD %v, MH %v", c.name, r.Labels, r.Elements, err, c.sud, c.mh)
		}
	}
}
