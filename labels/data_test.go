package labels_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/fjson/fjsontest"
	"github.com/ds4p/ds4p/labels"
)

// TestSyntheaRoundTrip labels every synthea-10 resource: it must validate,
// label without error, name its patient, and come back byte-identical when
// nothing changed (or relabel idempotently when something did).
func TestSyntheaRoundTrip(t *testing.T) {
	t.Parallel()
	withPatient := map[string]bool{
		"AllergyIntolerance": true, "Condition": true, "Device": true, "DocumentReference": true, "Encounter": true,
		"Immunization": true, "MedicationRequest": true, "Patient": true, "Procedure": true,
	}
	l := labels.Default()
	changed := 0
	for _, res := range fjsontest.SyntheaResources(t) {
		if err := fjson.Validate(res.JSON, 64); err != nil {
			t.Fatalf("%s:%d: Validate: %v", res.File, res.Line, err)
		}
		r, err := l.Label(res.JSON)
		if err != nil {
			t.Fatalf("%s:%d: Label: %v", res.File, res.Line, err)
		}
		if withPatient[r.Type] && r.Patient == "" {
			t.Fatalf("%s:%d: %s/%s has no patient", res.File, res.Line, r.Type, r.ID)
		}
		if r.Changed {
			changed++
		}
		checkEdits(t, l, res.JSON, r)
	}
	t.Logf("%d resources changed by the default rules", changed)
}

// inlineLabel is the DS4P IG extension for element-level labels.
const inlineLabel = "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label"

// TestDS4PExamplesKeepInlineLabels labels the DS4P IG examples with rules
// that match their codes, and checks that every inline label extension
// leaves byte-for-byte.
func TestDS4PExamplesKeepInlineLabels(t *testing.T) {
	t.Parallel()
	dir := fjsontest.DataDir(t, "ds4p-ig-examples")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no DS4P IG examples in %s", dir)
	}
	l, err := labels.New(
		labels.Rule{ID: "loinc-600-7", System: "http://loinc.org", Codes: []string{"600-7"}, Labels: []labels.Label{labels.Restricted}},
		labels.Rule{ID: "cvx-212", System: "http://hl7.org/fhir/sid/cvx", Codes: []string{"212"}, Labels: []labels.Label{labels.Restricted}},
		labels.Rule{ID: "drivers-licence", System: "http://terminology.hl7.org/CodeSystem/v2-0203", Codes: []string{"DL"}, Labels: []labels.Label{labels.Restricted}},
	)
	if err != nil {
		t.Fatal(err)
	}
	inline, labelled := 0, 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := l.Label(src)
		if err != nil {
			t.Fatalf("%s: Label: %v", filepath.Base(f), err)
		}
		spans := inlineLabels(t, src)
		inline += len(spans)
		out := checkEdits(t, l, src, r)
		if r.Changed {
			labelled++
		}
		for _, s := range spans {
			if !bytes.Contains(out, src[s[0]:s[1]]) {
				t.Errorf("%s: inline label at %d changed", filepath.Base(f), s[0])
			}
		}
		if len(spans) > 0 && !r.Changed {
			t.Errorf("%s: has inline labels but the test rules did not label it", filepath.Base(f))
		}
	}
	if inline == 0 || labelled == 0 {
		t.Fatalf("found %d inline labels and labelled %d examples; the test checks nothing", inline, labelled)
	}
}

// inlineLabels returns the bounds of every inline security label extension
// object in b (the resource itself excluded: a StructureDefinition's own url
// is that of the extension).
func inlineLabels(t *testing.T, b []byte) [][2]int {
	t.Helper()
	root := fjson.SkipSpace(b, 0)
	var spans [][2]int
	var walk func(i int) (int, error)
	walk = func(i int) (int, error) {
		switch b[i] {
		case '{':
			end, err := fjson.ObjectScan(b, i, func(_ []byte, v int) (int, error) { return walk(v) })
			if err != nil {
				return 0, err
			}
			if s, e, ok, _ := fjson.Lookup(b, i, "url"); ok && i != root {
				if url, _ := fjson.StringValue(b, s, e); url == inlineLabel {
					spans = append(spans, [2]int{i, end})
				}
			}
			return end, nil
		case '[':
			return fjson.ArrayScan(b, i, walk)
		}
		return fjson.SkipValue(b, i)
	}
	if _, err := walk(root); err != nil {
		t.Fatal(err)
	}
	return spans
}
