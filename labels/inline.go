package labels

import (
	"errors"
	"fmt"

	"github.com/ds4p/ds4p/internal/fjson"
)

// inlineEdits returns the edits that add the labels of e it lacks as
// inline label extensions of the element object at resource[e.Start:e.End]:
// appended to its extension array, or in a new one as its first member.
func inlineEdits(resource []byte, e ElementLabel) ([]fjson.Edit, error) {
	var add Set
	for _, lb := range e.Labels {
		if !e.Existing.Has(lb) {
			add = append(add, lb)
		}
	}
	if len(add) == 0 {
		return nil, nil
	}
	if e.Start < 0 || e.End > len(resource) || e.Start >= e.End || resource[e.Start] != '{' {
		return nil, fmt.Errorf("labels: element %s is not an object", e.Path)
	}
	data := appendInline(nil, add)
	s, end, ok, err := fjson.Lookup(resource, e.Start, "extension")
	switch {
	case err != nil:
		return nil, fmt.Errorf("labels: element %s: %w", e.Path, err)
	case ok && resource[s] != '[':
		return nil, errors.New(`labels: element ` + e.Path + `: "extension" is not an array`)
	case ok:
		at := end - 1 // the closing bracket
		if resource[fjson.SkipSpace(resource, s+1)] != ']' {
			data = append([]byte{','}, data...)
		}
		return []fjson.Edit{{Start: at, End: at, Data: data}}, nil
	}
	data = append(append([]byte(`"extension":[`), data...), ']')
	if resource[fjson.SkipSpace(resource, e.Start+1)] != '}' {
		data = append(data, ',')
	}
	return []fjson.Edit{{Start: e.Start + 1, End: e.Start + 1, Data: data}}, nil
}

// appendInline appends ls as inline label extensions, comma-separated:
// {"url":ExtInline,"valueCoding":<label with the classifier extension>}.
func appendInline(dst []byte, ls Set) []byte {
	for k, lb := range ls {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"url":"`+ExtInline+`","valueCoding":`...)
		dst = append(appendLabel(dst, lb, ""), '}')
	}
	return dst
}
