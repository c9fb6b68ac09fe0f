package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: a security label in a meta.tag, or in a
// DocumentReference's securityLabel or its coding, written as one object
// rather than an array of one (invalid FHIR JSON, but a server may store
// it, and other readers take it as the array's one element) is the
// resource's label, as in an array. It was read as nothing, and the
// resource passed as ordinary.
func TestLabelMembersAsOneObjectQA34A(t *testing.T) {
	t.Parallel()
	const sud = `{"system":"` + labels.SystemActCode + `","code":"SUD"}`
	l := labels.Default()
	for _, c := range []struct{ name, in string }{
		{"meta.tag, array", `{"resourceType":"Observation","id":"o","meta":{"tag":[` + sud + `]},"code":{"text":"a"}}`},
		{"meta.tag, one object", `{"resourceType":"Observation","id":"o","meta":{"tag":` + sud + `},"code":{"text":"a"}}`},
		{"meta.tag, one object, escaped key", `{"resourceType":"Observation","id":"o","meta":{"t\u0061g":` + sud + `},"code":{"text":"a"}}`},
		{"securityLabel, array", `{"resourceType":"DocumentReference","id":"d","securityLabel":[{"coding":[` + sud + `]}]}`},
		{"securityLabel, one object", `{"resourceType":"DocumentReference","id":"d","securityLabel":{"coding":[` + sud + `]}}`},
		{"securityLabel's coding, one object", `{"resourceType":"DocumentReference","id":"d","securityLabel":[{"text":"x"},{"coding":` + sud + `}]}`},
		{"both one object, escaped key", `{"resourceType":"DocumentReference","id":"d","securityL\u0061bel":{"c\u006fding":` + sud + `}}`},
		{"contained DocumentReference, one object", `{"resourceType":"List","id":"l","contained":[{"resourceType":"DocumentReference","id":"d","securityLabel":{"coding":` + sud + `}}]}`},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || !r.Labels.Has(labels.SUD) {
			t.Errorf("%s: labels %v, %v; want SUD", c.name, r.Labels, err)
		}
	}
}
