package labels_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// FuzzLabel checks that Label never panics and that, whenever it accepts a
// resource, the spliced output is valid JSON that reads back with exactly
// the labels of the Result, and no existing label was lost other than a
// confidentiality below the highest.
func FuzzLabel(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, in := range inputs {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"resourceType":"Condition","meta":{"security":[{"system":"http://hl7.org/fhir/v3/Confidentiality","code":"L"},{"code":"N","system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`,
		`{"meta":{},"resourceType":"X","contained":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"5602001"}]}}]}`,
		`{"resourceType":"Condition","meta":{"security":[{"code":"R"}]}}`,
		`{"resourceType":"Condition","subject":{"reference":"Patient/a"},"patient":{"reference":"Patient/b"}}`,
		`{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F1\u0031"}]}}`,
	} {
		f.Add([]byte(s))
	}
	l := labels.Default()
	f.Fuzz(func(t *testing.T, b []byte) {
		sameLabelAll(t, l, [][]byte{b})     // on valid JSON, LabelAllValid agrees
		_, _ = l.LabelAllValid([][]byte{b}) // and on any input it never panics
		r, err := l.Label(b)
		if err != nil {
			return
		}
		edits, err := l.Edits(b, r)
		if err != nil {
			t.Fatalf("Edits failed on a resource Label accepted: %v", err)
		}
		out, err := fjson.Apply(nil, b, edits)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if !json.Valid(out) || (fjson.Validate(b, 1000) == nil && fjson.Validate(out, 1000) != nil) {
			t.Fatalf("labelled output is invalid:\n%s", out)
		}
		again, err := l.Label(out)
		if err != nil || again.Changed || !again.Existing.Equal(r.Labels) {
			t.Fatalf("relabelled: %+v, %v; want Existing %v unchanged", again, err, r.Labels)
		}
		checkKept(t, r)
	})
}

// checkKept fails when r.Labels lost a label of r.Existing, other than a
// confidentiality below the one kept.
func checkKept(t *testing.T, r labels.Result) {
	conf, _ := r.Labels.Confidentiality()
	for _, lb := range r.Existing {
		lower := lb.System == labels.SystemConfidentiality && labels.ConfidentialityRank(lb.Code) >= 0 &&
			labels.ConfidentialityRank(lb.Code) < labels.ConfidentialityRank(conf)
		if !r.Labels.Has(lb) && !lower {
			t.Fatalf("existing label %v was dropped: %v", lb, r.Labels)
		}
	}
}

// FuzzLabelAll labels a batch of three resources cut from the fuzz input
// (with a sensitive Condition they may reference) and checks that it never
// panics, that every resource's edits give valid JSON that reads back with
// its labels and its element labels, and that no existing label (resource
// or inline) is lost.
func FuzzLabelAll(f *testing.F) {
	f.Add([]byte(`{"resourceType":"DiagnosticReport","id":"r","result":[{"reference":"Condition/sud"},{"reference":"Observation/x"}]}`), []byte(`{"resourceType":"List","entry":[{"item":{"reference":"Condition/sud"}},{}]}`))
	f.Add([]byte(`{"resourceType":"Claim","diagnosis":[{"extension":[],"x":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.1"}]}},{"a":1}]}`), []byte(`{"resourceType":"Encounter","diagnosis":[{"condition":{"reference":"Condition/sud"}},{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"code":"X"}}]}]}`))
	sud := []byte(`{"resourceType":"Condition","id":"sud","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`)
	l := labels.Default()
	f.Fuzz(func(t *testing.T, a, b []byte) {
		batch := [][]byte{sud, a, b}
		sameLabelAll(t, l, batch) // on valid JSON, LabelAllValid agrees
		rs, err := l.LabelAll(batch)
		if err != nil {
			return
		}
		for k := 1; k < len(batch); k++ {
			checkBatchEdits(t, l, batch[k], rs[k])
		}
	})
}

func checkBatchEdits(t *testing.T, l *labels.Labeller, src []byte, r labels.Result) {
	edits, err := l.Edits(src, r)
	if err != nil {
		t.Fatalf("Edits failed on a resource LabelAll accepted: %v", err)
	}
	out, err := fjson.Apply(nil, src, edits)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !json.Valid(out) {
		t.Fatalf("labelled output is invalid:\n%s", out)
	}
	again, err := l.Label(out)
	if err != nil || !again.Existing.Equal(r.Labels) {
		t.Fatalf("relabelled: %+v, %v; want Existing %v", again, err, r.Labels)
	}
	checkKept(t, r)
	for _, e := range r.Elements {
		for _, lb := range e.Existing {
			if !e.Labels.Has(lb) {
				t.Fatalf("inline label %v of %s dropped", lb, e.Path)
			}
		}
	}
}
