package labels_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden labels each testdata/golden/*.json resource with the default
// rules and compares the Result and the spliced resource with the .golden
// file beside it.
func TestGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	l := labels.Default()
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, l, src)
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./labels -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// render labels src, checks the invariants every labelled resource must
// keep, and returns the golden text: the Result as JSON, then the resource
// after the edits.
func render(t *testing.T, l *labels.Labeller, src []byte) []byte {
	t.Helper()
	r, err := l.Label(src)
	if err != nil {
		t.Fatalf("Label: %v", err)
	}
	out := checkEdits(t, l, src, r)
	res, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(append(res, "\n--- labelled resource ---\n"...), out...)
}

// checkEdits applies the edits for r to src and checks that the result is
// valid, unchanged when r.Changed is false, and labelled exactly with
// r.Labels when read again.
func checkEdits(t *testing.T, l *labels.Labeller, src []byte, r labels.Result) []byte {
	t.Helper()
	edits, err := l.Edits(src, r)
	if err != nil {
		t.Fatalf("Edits: %v", err)
	}
	if !r.Changed && len(edits) != 0 {
		t.Fatalf("Edits returned %d edits for an unchanged resource", len(edits))
	}
	out, err := fjson.Apply(nil, src, edits)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !r.Changed && !bytes.Equal(out, src) {
		t.Fatal("an unchanged resource lost bytes")
	}
	if err := fjson.Validate(out, 64); err != nil {
		t.Fatalf("labelled resource is invalid: %v\n%s", err, out)
	}
	again, err := l.Label(out)
	if err != nil {
		t.Fatalf("Label(labelled): %v", err)
	}
	if again.Changed || !again.Existing.Equal(r.Labels) {
		t.Fatalf("relabelling: Existing %v Changed %v, want %v and false", again.Existing, again.Changed, r.Labels)
	}
	return out
}
