package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestBundleLabelsTagNotACodingQA36I: a stored Bundle's meta.tag entry
// that is no Coding fails BundleLabels, as one in a resource's meta.tag
// fails its labelling (0099e04); ordinary tags read as before.
func TestBundleLabelsTagNotACodingQA36I(t *testing.T) {
	t.Parallel()
	const r = `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`
	for _, tag := range []string{`[{"coding":[` + r + `]}]`, `[[` + r + `]]`, `[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":["R"]}]`} {
		meta := []byte(`{"tag":` + tag + `}`)
		if ls, err := labels.BundleLabels(meta, 0); err == nil || !strings.Contains(err.Error(), "meta.tag") {
			t.Errorf("tag %s: %v, %v; want an error naming meta.tag", tag, ls, err)
		}
	}
	for tag, n := range map[string]int{`[{"system":"http://example.org/workflow","code":"reviewed"}]`: 0, `["legacy",{}]`: 0, `[` + r + `]`: 1, r: 1} {
		ls, err := labels.BundleLabels([]byte(`{"tag":`+tag+`}`), 0)
		if err != nil || len(ls) != n {
			t.Errorf("tag %s: %v, %v; want %d labels", tag, ls, err, n)
		}
	}
}
