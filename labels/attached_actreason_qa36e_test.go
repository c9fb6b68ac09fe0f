package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAttachedLabelActReasonQA36E: an attached resource's label spelt
// under v3-ActReason (or its OID) is the v3-ActCode label it names, as on
// a resource's own meta.security; a purpose of use there (TREAT, HPAYMT:
// v3-ActReason codes that are no label) labels nothing. QA round 36,
// area E.
func TestAttachedLabelActReasonQA36E(t *testing.T) {
	t.Parallel()
	doc := func(inner string) []byte {
		return []byte(`{"resourceType":"DocumentReference","id":"dr1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` +
			base64.StdEncoding.EncodeToString([]byte(inner)) + `"}}]}`)
	}
	for _, tc := range []struct {
		name, inner string
		want        labels.Set
	}{
		{"42CFRPart2 under ActReason", `{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"42CFRPart2"}]},"code":{"text":"x"}}`, labels.NewSet(labels.Part2Policy)},
		{"SUD under the ActReason OID", `{"resourceType":"Condition","meta":{"security":[{"system":"urn:oid:2.16.840.1.113883.5.8","code":"SUD"}]},"code":{"text":"x"}}`, labels.NewSet(labels.SUD)},
		{"purposes of use", `{"resourceType":"Consent","provision":{"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}]}}`, nil},
	} {
		r, err := labels.Default().Label(doc(tc.inner))
		if err != nil {
			t.Fatal(err)
		}
		for _, lb := range tc.want {
			if !r.Labels.Has(lb) {
				t.Errorf("%s: labels %v, want %v", tc.name, r.Labels, lb)
			}
		}
		if tc.want == nil && r.Labels.Sensitive() {
			t.Errorf("%s: labelled %v", tc.name, r.Labels)
		}
	}
}
