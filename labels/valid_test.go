package labels_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
)

// TestLabelAllValidSameResults: on resources fjson.Validate accepts,
// LabelAllValid returns exactly what LabelAll returns: the golden resources
// one by one, and the entries of generated Bundles (sensitive, Part 2 and
// propagated labels, element labels) as batches.
func TestLabelAllValidSameResults(t *testing.T) {
	t.Parallel()
	l := synthLabeller(t, 0)
	inputs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if len(inputs) == 0 {
		t.Fatal("no golden resources")
	}
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		sameLabelAll(t, l, [][]byte{b})
	}
	for _, seed := range []int64{1, 7, 11} {
		body := synth.BenchBundle(300, seed)
		var batch [][]byte
		if err := eachResource(body, func(s, e int) error { batch = append(batch, body[s:e]); return nil }); err != nil {
			t.Fatal(err)
		}
		sameLabelAll(t, l, batch)
	}
}

// sameLabelAll fails unless LabelAllValid and LabelAll agree on batch,
// results and errors, whenever every resource of batch is valid JSON.
func sameLabelAll(t *testing.T, l *labels.Labeller, batch [][]byte) {
	t.Helper()
	for _, b := range batch {
		if fjson.Validate(b, fjson.MaxDepth) != nil {
			return
		}
	}
	want, wantErr := l.LabelAll(batch)
	got, gotErr := l.LabelAllValid(batch)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("LabelAllValid error %v; LabelAll error %v", gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Fatalf("resource %d (%.200s): LabelAllValid\n%+v\nLabelAll\n%+v", k, batch[k], got[k], want[k])
			}
		}
		t.Fatalf("LabelAllValid %d results; LabelAll %d", len(got), len(want))
	}
}

// synthLabeller is the default rules with the synthetic data's Part 2
// program, as the proxy labels generated data.
func synthLabeller(tb testing.TB, cacheSize int) *labels.Labeller {
	tb.Helper()
	l, err := labels.NewLabeller(labels.Options{
		Rules: labels.DefaultRules(),
		Programs: []labels.Program{{Name: "p2", References: []string{synth.Part2OrgRef, synth.Part2PractitionerRef},
			Sources: []string{synth.Part2Source}}},
		CacheSize: cacheSize,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}
