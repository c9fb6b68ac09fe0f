package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: a contained member written as one object rather
// than an array of one is its one resource: a contained DocumentReference
// so written carries its own securityLabel to its container, as one in an
// array does (QA round 32, area F). It was read as no contained resource.
func TestContainedObjectDocumentLabelsQA34A(t *testing.T) {
	t.Parallel()
	const doc = `{"resourceType":"DocumentReference","id":"d","securityLabel":[{"coding":[{"system":"` + labels.SystemActCode + `","code":"PSYTHPN"}]}]}`
	psy := labels.Label{System: labels.SystemActCode, Code: "PSYTHPN"}
	l := labels.Default()
	for name, in := range map[string]string{
		"array":                   `{"resourceType":"List","id":"l","contained":[` + doc + `]}`,
		"one object":              `{"resourceType":"List","id":"l","contained":` + doc + `}`,
		"one object, escaped key": `{"resourceType":"List","id":"l","cont\u0061ined":` + doc + `}`,
	} {
		r, err := l.Label([]byte(in))
		if err != nil || !r.Labels.Has(psy) {
			t.Errorf("%s: labels %v, %v; want PSYTHPN", name, r.Labels, err)
		}
	}
}
