package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: a Composition's confidentiality written otherwise
// than as a code (invalid FHIR JSON, but a server may store it, and other
// readers show it): an array of one code, or a Coding. Each code is the
// document's confidentiality, as the code is (QA round 32, area B); read
// as none, the Composition went out as ordinary data.
func TestCompositionConfidentialityShapesQA34A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	comp := func(conf string) string {
		return `{"resourceType":"Composition","id":"c1","status":"final","confidentiality":` + conf + `,"subject":{"reference":"Patient/p1"},"title":"t"}`
	}
	for _, c := range []struct {
		name, conf string
		want       string // the confidentiality code, "" for none
	}{
		{"a code", `"V"`, "V"},
		{"an array of one code", `["R"]`, "R"},
		{"an array of two codes", `["N","V"]`, "V"},
		{"a Coding", `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`, "R"},
		{"a Coding without a system", `{"code":"V"}`, "V"},
		{"a Coding, escaped key", `{"c\u006fde":"R"}`, "R"},
		{"an array of a Coding", `[{"code":"R"}]`, "R"},
		{"a number", `3`, ""},
	} {
		r, err := l.Label([]byte(comp(c.conf)))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := labels.Label{System: labels.SystemConfidentiality, Code: c.want}
		if c.want == "" {
			if len(r.Labels) != 0 {
				t.Errorf("%s: labels %v; want none", c.name, r.Labels)
			}
			continue
		}
		if !r.Labels.Has(want) {
			t.Errorf("%s: labels %v; want %v", c.name, r.Labels, want)
		}
	}
}
