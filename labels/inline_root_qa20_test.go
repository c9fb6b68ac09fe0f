package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestInlineLabelOnTheResource: an inline security label in the resource's
// own extension, or in meta's, labels the resource (QA round 20, HIGH):
// the walk gave a label to the object that owned its extension when that
// object closed, and the resource's top-level object never did, so an
// Observation carrying an HIV label there was decided as unlabelled and
// went whole to a caller denied HIV data; one in meta's extension was given
// to the next top-level object (code), cut in meta's place.
func TestInlineLabelOnTheResource(t *testing.T) {
	t.Parallel()
	ext := `{"url":"` + inlineLabel + `","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}}`
	for name, body := range map[string]string{
		"top-level extension": `{"resourceType":"Observation","id":"o1","extension":[` + ext + `],"status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"}}`,
		"meta extension":      `{"resourceType":"Observation","id":"o1","meta":{"extension":[` + ext + `]},"status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"}}`,
		"after the members":   `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},"extension":[` + ext + `]}`,
	} {
		r, err := labels.Default().Label([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !r.Existing.Has(labels.Label{System: labels.SystemActCode, Code: "HIV"}) {
			t.Errorf("%s: resource labels %v lack HIV", name, r.Existing)
		}
		for _, e := range r.Elements {
			if strings.HasPrefix(e.Path, "code") {
				t.Errorf("%s: the label went to element %s", name, e.Path)
			}
		}
	}
}
