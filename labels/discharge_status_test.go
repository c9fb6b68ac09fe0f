package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestDischargeStatusPsychiatric: an explanation of benefit whose NUBC
// discharge status (CARIN Blue Button supportingInfo discharge-status) is a
// transfer to a psychiatric hospital or unit (65, 93) tells of mental
// health care, whatever it bills; discharged home (01) stays ordinary
// (QA round 31, area E's proposal).
func TestDischargeStatusPsychiatric(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	eob := func(code string) string {
		return `{"resourceType":"ExplanationOfBenefit","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},"supportingInfo":[{"sequence":1,` +
			`"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType","code":"discharge-status"}]},` +
			`"code":{"coding":[{"system":"https://www.nubc.org/CodeSystem/PatDischargeStatus","code":"` + code + `"}]}}]}`
	}
	for code, want := range map[string]bool{"65": true, "93": true, "01": false} {
		r, err := l.Label([]byte(eob(code)))
		if err != nil || r.Labels.Has(mh) != want {
			t.Errorf("discharge status %s: labels %v %v, want MH %v", code, r.Labels, err, want)
		}
	}
}
