package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

const (
	elSUD = `{"resourceType":"Condition","id":"sud","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p"}}`
	elBP  = `{"resourceType":"Observation","id":"bp","status":"final","subject":{"reference":"Patient/p"}}`
	elSUO = `{"resourceType":"Observation","id":"tox","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p"}}`
)

// TestElementPropagation checks element labels that come from references
// inside segmentable elements, over a batch.
func TestElementPropagation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, res   string
		mixed       bool
		element     string // path of the labelled element, when mixed
		resourceSUD bool
	}{
		{"report with one sensitive result of two", `{"resourceType":"DiagnosticReport","id":"r","text":{"div":"<div>x</div>"},"result":[{"reference":"Observation/bp"},{"reference":"Observation/tox"}]}`, true, "result[1]", false},
		{"report whose only result is sensitive", `{"resourceType":"DiagnosticReport","id":"r","result":[{"reference":"Observation/tox"}]}`, false, "", true},
		{"encounter diagnosis", `{"resourceType":"Encounter","id":"e","diagnosis":[{"condition":{"reference":"Condition/sud"}},{"condition":{"reference":"Condition/other"}}]}`, true, "diagnosis[0]", false},
		{"careplan activity reference", `{"resourceType":"CarePlan","id":"cp","activity":[{"reference":{"reference":"Observation/bp"}},{"reference":{"reference":"Condition/sud"}}]}`, true, "activity[1]", false},
		{"list entry", `{"resourceType":"List","id":"l","entry":[{"item":{"reference":"Condition/sud"}},{"item":{"reference":"Observation/bp"}}]}`, true, "entry[0]", false},
		{"report with its own sensitive code", `{"resourceType":"DiagnosticReport","id":"r","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]},"result":[{"reference":"Observation/bp"},{"reference":"Observation/tox"}]}`, false, "", true},
		// A JSON client reads "entr\u0079" as entry: its link to the
		// SUD Condition labels the element, or the List would show the
		// Condition exists while passing as ordinary (QA round 22).
		{"list entry, member name escaped", `{"resourceType":"List","id":"l","entr\u0079":[{"item":{"reference":"Condition/sud"}},{"item":{"reference":"Observation/bp"}}]}`, true, "entry[0]", false},
		// A List's entry, a Composition's section, written as one object
		// rather than an array: in no element, the link labels the whole
		// resource; it was dropped, and the List passed as ordinary.
		{"list entry as one object", `{"resourceType":"List","id":"l","entry":{"item":{"reference":"Condition/sud"}}}`, false, "", true},
		{"composition section as one object", `{"resourceType":"Composition","id":"c","section":{"title":"Problems","entry":[{"reference":"Condition/sud"}]}}`, false, "", true},
		{"entry outside a List does not propagate", `{"resourceType":"Basic","id":"x","entry":[{"item":{"reference":"Condition/sud"}}]}`, false, "", false},
	}
	l := labels.Default()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			batch := [][]byte{[]byte(elSUD), []byte(elBP), []byte(elSUO), []byte(tc.res)}
			rs, err := l.LabelAll(batch)
			if err != nil {
				t.Fatal(err)
			}
			r := rs[3]
			if r.Mixed != tc.mixed || r.Labels.Has(labels.SUD) != tc.resourceSUD {
				t.Fatalf("Mixed %v, resource SUD %v; want %v, %v (%v)", r.Mixed, r.Labels.Has(labels.SUD), tc.mixed, tc.resourceSUD, r.Labels)
			}
			if tc.mixed {
				if !r.Labels.Has(labels.ProcessInline) || len(r.Elements) != 1 || r.Elements[0].Path != tc.element || !r.Elements[0].Labels.Has(labels.SUD) {
					t.Fatalf("elements %+v, labels %v; want SUD on %s and PROCESSINLINELABEL", r.Elements, r.Labels, tc.element)
				}
				if !r.Effective().Has(labels.SUD) {
					t.Errorf("Effective lacks the element's SUD: %v", r.Effective())
				}
				if w := r.WholeResource(); !w.Labels.Has(labels.SUD) || !w.Changed {
					t.Errorf("WholeResource labels %v", w.Labels)
				}
				e := r.Elements[0]
				if el := string(batch[3][e.Start:e.End]); !strings.HasPrefix(el, "{") || !strings.HasSuffix(el, "}") {
					t.Errorf("element span %q", el)
				}
			}
			edits, err := l.Edits(batch[3], r)
			if err != nil {
				t.Fatal(err)
			}
			out, err := fjson.Apply(nil, batch[3], edits)
			if err != nil || fjson.Validate(out, 64) != nil {
				t.Fatalf("Apply: %v\n%s", err, out)
			}
			again, err := l.Label(out)
			if err != nil || !again.Existing.Equal(r.Labels) || (tc.mixed && !again.Effective().Has(labels.SUD)) {
				t.Fatalf("relabelled %+v, %v", again, err)
			}
		})
	}
}

// TestHighWaterMark checks the Bundle mark: highest confidentiality,
// sensitivity and policy codes, no obligations or refrains.
func TestHighWaterMark(t *testing.T) {
	t.Parallel()
	act := func(c string) labels.Label { return labels.Label{System: labels.SystemActCode, Code: c} }
	conf := func(c string) labels.Label { return labels.Label{System: labels.SystemConfidentiality, Code: c} }
	rs := []labels.Result{
		{Labels: labels.NewSet(conf("N"), act("HIV"), act("PROCESSINLINELABEL"))},
		{Labels: labels.NewSet(conf("R"), act("SUD"), act("42CFRPart2"), act("NORDSCLCD"), labels.Label{System: labels.SystemObservationValue, Code: "REDACTED"})},
		{Labels: labels.NewSet(conf("M")), Elements: []labels.ElementLabel{{Labels: labels.NewSet(conf("V"), act("PSY"))}}},
	}
	want := labels.NewSet(conf("V"), act("HIV"), act("SUD"), act("42CFRPart2"), act("PSY"))
	if got := labels.HighWaterMark(rs); !got.Equal(want) {
		t.Errorf("HighWaterMark = %v, want %v", got, want)
	}
	if got := labels.HighWaterMark(nil); len(got) != 0 {
		t.Errorf("empty mark %v", got)
	}
}
