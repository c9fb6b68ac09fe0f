package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: an inline label whose extension is written as one
// object rather than an array of one (invalid FHIR JSON, but a server may
// store it, and other readers take it as the array's one element) labels
// the element that holds it, as in an array. Taken as the label of the
// object two levels up, it went to the next object closed at that depth
// (the Observation's valueQuantity, cut instead) or to none, and the SUD
// component went out as ordinary data.
func TestInlineExtensionObjectQA34A(t *testing.T) {
	t.Parallel()
	const inline = `{"url":"` + labels.ExtInline + `","valueCoding":{"system":"` + labels.SystemActCode + `","code":"SUD"}}`
	l := labels.Default()
	for _, c := range []struct {
		name, in string
		elem     string // the element labelled SUD, "" for the resource
	}{
		{"component, array", `{"resourceType":"Observation","id":"o","component":[{"extension":[` + inline + `],"code":{"text":"a"}},{"code":{"text":"b"}}],"valueQuantity":{"value":1}}`, "component[0]"},
		{"component, one object", `{"resourceType":"Observation","id":"o","component":[{"extension":` + inline + `,"code":{"text":"a"}},{"code":{"text":"b"}}],"valueQuantity":{"value":1}}`, "component[0]"},
		{"component, one object, escaped key", `{"resourceType":"Observation","id":"o","component":[{"ext\u0065nsion":` + inline + `,"code":{"text":"a"}},{"code":{"text":"b"}}],"valueQuantity":{"value":1}}`, "component[0]"},
		{"top-level element, one object", `{"resourceType":"Observation","id":"o","valueCodeableConcept":{"extension":` + inline + `,"text":"a"},"note":[{"text":"b"}]}`, "valueCodeableConcept"},
		{"the resource, one object", `{"resourceType":"Observation","id":"o","extension":` + inline + `,"code":{"text":"a"}}`, ""},
		{"meta, one object", `{"resourceType":"Observation","id":"o","meta":{"extension":` + inline + `},"code":{"text":"a"}}`, ""},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var paths []string
		for _, e := range r.Elements {
			if e.Labels.Has(labels.SUD) {
				paths = append(paths, e.Path)
			}
		}
		if c.elem == "" {
			if !r.Labels.Has(labels.SUD) || len(paths) > 0 {
				t.Errorf("%s: labels %v, SUD elements %v; want the resource SUD", c.name, r.Labels, paths)
			}
			continue
		}
		if len(paths) != 1 || paths[0] != c.elem {
			t.Errorf("%s: SUD elements %v, labels %v; want %s", c.name, paths, r.Labels, c.elem)
		}
	}
}
