package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestContainedDocumentLabelsQA32F: a contained DocumentReference's
// securityLabel and a contained Composition's confidentiality are labels
// of the container, which discloses them (QA round 32, area F, on
// cc38417): a List holding a DocumentReference its EHR labelled PSYTHPN
// or SUD, the note inline, went out as ordinary data.
func TestContainedDocumentLabelsQA32F(t *testing.T) {
	t.Parallel()
	act := func(code string) labels.Label { return labels.Label{System: labels.SystemActCode, Code: code} }
	conf := func(code string) labels.Label { return labels.Label{System: labels.SystemConfidentiality, Code: code} }
	list := func(contained string) string {
		return `{"resourceType":"List","id":"l1","status":"current","mode":"working","subject":{"reference":"Patient/p1"},"contained":[` + contained + `],"entry":[{"item":{"reference":"#d"}}]}`
	}
	cases := []struct {
		name string
		in   string
		want labels.Label
		path string
		none bool
	}{
		{name: "contained DocumentReference PSYTHPN", in: list(`{"resourceType":"DocumentReference","id":"d","status":"current","securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}]}],"content":[{"attachment":{"contentType":"text/plain","data":"bm90ZQ=="}}]}`),
			want: act("PSYTHPN"), path: "contained[0].securityLabel[0].coding[0]"},
		{name: "second contained, type last", in: list(`{"resourceType":"Basic","id":"b","code":{"text":"x"}},{"id":"d","status":"current","securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}],"resourceType":"DocumentReference"}`),
			want: act("SUD"), path: "contained[1].securityLabel[0].coding[0]"},
		{name: "contained Composition V", in: list(`{"resourceType":"Composition","id":"d","status":"final","confidentiality":"V","type":{"text":"x"},"title":"t"}`),
			want: conf("V"), path: "contained[0].confidentiality"},
		{name: "securityLabel of another contained type", in: list(`{"resourceType":"Observation","id":"d","status":"final","code":{"text":"x"},"securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}]}`), none: true},
	}
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.none {
			if len(r.Labels) != 0 {
				t.Errorf("%s: labels %v; want none", c.name, r.Labels)
			}
			continue
		}
		if !r.Labels.Has(c.want) {
			t.Errorf("%s: labels %v; want %v", c.name, r.Labels, c.want)
		}
		found := false
		for _, rs := range r.Reasons {
			if rs.Label == c.want && rs.Path == c.path {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: reasons %+v; want one for %v at %s", c.name, r.Reasons, c.want, c.path)
		}
	}
}
