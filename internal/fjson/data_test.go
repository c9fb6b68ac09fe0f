package fjson_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/fjson/fjsontest"
)

// TestSyntheaRoundTrip validates every synthea-10 resource, walks every value
// in one pass and checks that splicing no edits gives back the same bytes.
func TestSyntheaRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range fjsontest.SyntheaResources(t) {
		if err := fjson.Validate(r.JSON, 64); err != nil {
			t.Fatalf("%s:%d: Validate: %v", r.File, r.Line, err)
		}
		if !json.Valid(r.JSON) {
			t.Fatalf("%s:%d: encoding/json disagrees", r.File, r.Line)
		}
		n, err := countValues(r.JSON)
		if err != nil || n == 0 {
			t.Fatalf("%s:%d: walk: %d values, %v", r.File, r.Line, n, err)
		}
		out, err := fjson.Apply(nil, r.JSON, nil)
		if err != nil || !bytes.Equal(out, r.JSON) {
			t.Fatalf("%s:%d: Apply with no edits changed the bytes (%v)", r.File, r.Line, err)
		}
	}
}

// countValues walks b with ObjectScan and ArrayScan, descending into every
// container, and counts the values seen.
func countValues(b []byte) (int, error) {
	n := 0
	var walk func(i int) (int, error)
	walk = func(i int) (int, error) {
		n++
		switch b[fjson.SkipSpace(b, i)] {
		case '{':
			return fjson.ObjectScan(b, i, func(_ []byte, v int) (int, error) { return walk(v) })
		case '[':
			return fjson.ArrayScan(b, i, walk)
		}
		return fjson.SkipValue(b, i)
	}
	end, err := walk(0)
	if err == nil && end != len(b) {
		return n, &fjson.SyntaxError{Offset: end, Msg: "walk stopped early"}
	}
	return n, err
}

// bundles returns 1-, 100- and 1,000-entry Bundles built from synthea-10
// when present, else from generated resources.
func bundles(b *testing.B) []namedBundle {
	rs, source := fjsontest.BenchResources()
	b.Logf("bundle resources from %s", source)
	var out []namedBundle
	for _, n := range []int{1, 100, 1000} {
		out = append(out, namedBundle{name: "entries=" + strconv.Itoa(n), json: fjsontest.Bundle(rs, n)})
	}
	return out
}

type namedBundle struct {
	name string
	json []byte
}
