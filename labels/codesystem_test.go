package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCodeSystemURNInAnyCase: a code system named by its OID under a URN
// written in another case (URN:OID:, as RFC 8141 allows) is that system:
// the labeller read an opioid dependence coded so as ordinary data.
func TestCodeSystemURNInAnyCase(t *testing.T) {
	t.Parallel()
	for _, system := range []string{"urn:oid:2.16.840.1.113883.6.90", "URN:OID:2.16.840.1.113883.6.90", "Urn:Oid:2.16.840.1.113883.6.90"} {
		r, err := labels.Default().Label([]byte(`{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"` + system + `","code":"F11.20"}]}}`))
		if err != nil || !r.Labels.Has(labels.SUD) {
			t.Errorf("system %s: labels %v, %v; want SUD", system, r.Labels, err)
		}
		if got := labels.CodeSystem(system); got != labels.SystemICD10CM {
			t.Errorf("CodeSystem(%s) = %s", system, got)
		}
	}
}
