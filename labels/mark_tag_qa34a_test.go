package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: a Bundle whose meta.tag is one object rather than
// an array of one (invalid FHIR JSON, but a server may send it, and the
// labeller reads it as the array's one element) holding a security label.
// MarkEdits removed such labels from a tag array only: a searchset whose
// SUD entry was withheld still said "SUD" in its tag. It goes as from an
// array; a tag that is no security label stays.
func TestMarkEditsTagObjectQA34A(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, tag string
		kept      bool
	}{
		{"SUD", `{"system":"` + labels.SystemActCode + `","code":"SUD"}`, false},
		{"R", `{"system":"` + labels.SystemConfidentiality + `","code":"R"}`, false},
		{"another system", `{"system":"http://example.org/tags","code":"SUD"}`, true},
	} {
		for _, key := range []string{`"tag"`, `"t\u0061g"`} {
			bundle := []byte(`{"resourceType":"Bundle","meta":{` + key + `:` + c.tag + `},"type":"searchset"}`)
			edits, err := labels.MarkEdits(bundle, nil)
			if err != nil {
				t.Fatalf("%s %s: MarkEdits: %v", c.name, key, err)
			}
			out, err := fjson.Apply(nil, bundle, edits)
			if err != nil || fjson.Validate(out, 64) != nil {
				t.Fatalf("%s %s: Apply: %v %s", c.name, key, err, out)
			}
			if s := string(out); strings.Contains(s, c.tag) != c.kept {
				t.Errorf("%s %s: %s; want the tag kept: %v", c.name, key, s, c.kept)
			}
		}
	}
}
