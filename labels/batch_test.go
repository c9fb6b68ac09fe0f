package labels_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
)

// checkedBatch labels each resource of batch, as the slice of a body that
// holds it with trailing bytes ("," and more), with Batch.AddChecked, and
// returns the results after Finish, the ends and contained starts found,
// or the first error.
func checkedBatch(l *labels.Labeller, batch [][]byte, maxDepth int) ([]labels.Result, []int, []int, error) {
	out := make([]labels.Result, len(batch))
	ends := make([]int, len(batch))
	cont := make([]int, len(batch))
	b := l.NewBatch()
	for k, res := range batch {
		body := append(append([]byte(`[`), res...), `,{"x":1}]`...)
		end, c, err := b.AddChecked(body, 1, maxDepth, &out[k])
		if err != nil {
			return nil, nil, nil, err
		}
		ends[k], cont[k] = end-1, c
		if c >= 0 {
			cont[k] = c - 1
		}
	}
	b.Finish()
	return out, ends, cont, nil
}

// TestAddCheckedSameResults: on valid resources, labelling each with
// Batch.AddChecked returns what LabelAllValid returns for the batch, finds
// each resource's end, and where its contained array starts.
func TestAddCheckedSameResults(t *testing.T) {
	t.Parallel()
	l := synthLabeller(t, 0)
	batches := [][][]byte{{
		[]byte(`{"resourceType":"Condition","id":"sud","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`),
		[]byte(`{"resourceType":"MedicationRequest","id":"m","contained":[{"resourceType":"Medication","id":"x"}],"reasonReference":[{"reference":"Condition/sud"}]}`),
		[]byte(`{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p","display":"x"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R","extension":[{"url":"u","valueString":"v"}]}]}}`),
		[]byte(`{"resourceType":"Observation","c\u006Fntained":[],"code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]}}`),
	}}
	for _, seed := range []int64{1, 7, 11} {
		body := synth.BenchBundle(300, seed)
		var batch [][]byte
		if err := eachResource(body, func(s, e int) error { batch = append(batch, body[s:e]); return nil }); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, batch)
	}
	for _, batch := range batches {
		want, err := l.LabelAllValid(batch)
		if err != nil {
			t.Fatal(err)
		}
		got, ends, cont, err := checkedBatch(l, batch, fjson.MaxDepth)
		if err != nil {
			t.Fatalf("AddChecked: %v", err)
		}
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Fatalf("resource %d (%.200s): AddChecked\n%+v\nLabelAllValid\n%+v", k, batch[k], got[k], want[k])
			}
			if ends[k] != len(batch[k]) {
				t.Fatalf("resource %d: end %d, want %d", k, ends[k], len(batch[k]))
			}
			wantCont := -1
			if s, _, ok, _ := fjson.Lookup(batch[k], 0, "contained"); ok {
				wantCont = s
			}
			if cont[k] != wantCont {
				t.Fatalf("resource %d: contained at %d, want %d", k, cont[k], wantCont)
			}
		}
	}
}

// TestAddCheckedRefuses: AddChecked refuses, as fjson.Validate does, what
// the labeller itself would not notice: a duplicate key it does not read,
// in any object, bad UTF-8, bad numbers and escapes, nesting beyond the
// limit, a truncated resource.
func TestAddCheckedRefuses(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for name, res := range map[string]string{
		"duplicate in code":             `{"resourceType":"Observation","code":{"text":"a","text":"b"}}`,
		"duplicate at top":              `{"resourceType":"Observation","status":"final","status":"x"}`,
		"duplicate by escape":           `{"resourceType":"Observation","status":"final","st\u0061tus":"x"}`,
		"duplicate in reference":        `{"resourceType":"Observation","subject":{"reference":"Patient/p","display":"a","display":"b"}}`,
		"duplicate in a security label": `{"resourceType":"Observation","meta":{"security":[{"code":"R","extension":[{"url":"a","url":"b"}]}]}}`,
		"duplicate in a skipped value":  `{"resourceType":"Observation","id":"x","meta":{"versionId":"1","tag":[{"a":1,"a":2}]}}`,
		"duplicate contained":           `{"resourceType":"Observation","contained":[],"contained":[{"resourceType":"Patient"}]}`,
		"bad utf-8 in narrative":        "{\"resourceType\":\"Observation\",\"text\":{\"div\":\"<div>\xff</div>\"}}",
		"bad utf-8 in a key":            "{\"resourceType\":\"Observation\",\"\xc0\xaf\":1}",
		"raw control character":         "{\"resourceType\":\"Observation\",\"note\":[{\"text\":\"a\tb\"}]}",
		"bad escape":                    `{"resourceType":"Observation","note":[{"text":"\x41"}]}`,
		"bad number":                    `{"resourceType":"Observation","valueQuantity":{"value":01}}`,
		"bad literal":                   `{"resourceType":"Observation","valueBoolean":tru}`,
		"trailing comma":                `{"resourceType":"Observation","a":[1,],}`,
		"too deep":                      `{"resourceType":"Observation","a":[[[[{"b":[[]]}]]]]}`,
		"truncated":                     `{"resourceType":"Observation","code":{"coding":[{"system":"x","code":"y"}`,
		"truncated string":              `{"resourceType":"Observation","id":"abc`,
	} {
		if fjson.Validate([]byte(res), 6) == nil {
			t.Fatalf("%s: the case is valid under fjson.Validate", name)
		}
		b := l.NewBatch()
		var r labels.Result
		if _, _, err := b.AddChecked([]byte(res), 0, 6, &r); err == nil {
			t.Errorf("%s: AddChecked accepted %s", name, res)
		}
	}
	// At the limit is fine, one more level is not.
	ok := `{"resourceType":"Observation","a":[[[[{"b":[]}]]]]}`
	var r labels.Result
	if _, _, err := l.NewBatch().AddChecked([]byte(ok), 0, 7, &r); err != nil {
		t.Fatalf("AddChecked at the depth limit: %v", err)
	}
	if _, _, err := l.NewBatch().AddChecked([]byte(ok), 0, 6, &r); err == nil {
		t.Fatal("AddChecked one level past the depth limit accepted")
	}
}

// FuzzAddChecked: AddChecked accepts a resource only if fjson.Validate
// accepts it at the same depth (soundness: the proxy releases nothing else)
// and the labeller can label it, and then agrees with LabelAllValid; and it
// accepts every resource both accept.
func FuzzAddChecked(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Condition","id":"sud","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`), uint8(5))
	f.Add([]byte(`{"resourceType":"Observation","subject":{"reference":"Patient/p"},"meta":{"security":[{"code":"R"}]},"contained":[{"resourceType":"Patient","id":"p","a":{"b":1,"b":2}}]}`), uint8(4))
	f.Add([]byte(`{"resourceType":"Claim","diagnosis":[{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"code":"R","code":"N"}}]}]}`), uint8(8))
	l := labels.Default()
	f.Fuzz(func(t *testing.T, res []byte, depth uint8) {
		res = bytes.TrimLeft(res, " \t\r\n")
		if len(res) == 0 {
			return
		}
		d := int(depth % 16)
		var got labels.Result
		body := append(res[:len(res):len(res)], ` ,1]`...)
		batch := l.NewBatch()
		end, _, gotErr := batch.AddChecked(body, 0, d, &got)
		if gotErr == nil {
			batch.Finish()
			if err := fjson.Validate(body[:end], d); err != nil {
				t.Fatalf("AddChecked accepted %q up to %d, which Validate refuses: %v", res, end, err)
			}
		}
		valid := fjson.Validate(res, d) == nil
		want, wantErr := l.LabelAllValid([][]byte{res})
		if valid && wantErr == nil {
			if gotErr != nil {
				t.Fatalf("AddChecked refused %q, which Validate and the labeller accept: %v", res, gotErr)
			}
			// The resource ends at its closing brace; whitespace after it
			// (which Validate allows) belongs to what holds it.
			if end != len(bytes.TrimRight(res, " \t\r\n")) || !reflect.DeepEqual(got, want[0]) {
				t.Fatalf("AddChecked on %q: end %d, %+v; LabelAllValid %+v", res, end, got, want[0])
			}
		}
		if gotErr != nil && !strings.HasPrefix(gotErr.Error(), "labels: ") {
			t.Fatalf("error %v does not say where it comes from", gotErr)
		}
	})
}

// TestBatchListsReused: a finished batch's lists serve the next batch,
// and the results of the first stay as they were.
func TestBatchListsReused(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	bodyA := synth.BenchBundle(100, 1)
	bodyB := synth.BenchBundle(100, 11)
	label := func(body []byte) []labels.Result {
		var starts []int
		if err := eachResource(body, func(s, _ int) error { starts = append(starts, s); return nil }); err != nil {
			t.Fatal(err)
		}
		out := make([]labels.Result, len(starts))
		b := l.NewBatch()
		for k, s := range starts {
			if _, _, err := b.AddChecked(body, s, 64, &out[k]); err != nil {
				t.Fatal(err)
			}
		}
		b.Finish()
		return out
	}
	first := label(bodyA)
	want := fmt.Sprintf("%+v", first)
	for range 3 {
		label(bodyB)
	}
	if got := fmt.Sprintf("%+v", first); got != want {
		t.Fatal("the results of a finished batch changed when later batches ran")
	}
	if again := fmt.Sprintf("%+v", label(bodyA)); again != want {
		t.Fatal("the same body labelled again gives other results")
	}
}
