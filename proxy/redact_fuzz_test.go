package proxy

import (
	"encoding/json"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
)

// FuzzPruneEdits removes the objects and strings chosen by pick from a JSON
// object and checks that what is left is valid JSON without them.
func FuzzPruneEdits(f *testing.F) {
	f.Add([]byte(`{"resourceType":"X","a":[{"x":1},{"y":"s"}],"b":{"c":{"d":"q"}},"e":"t"}`), uint64(0b1011))
	f.Add([]byte(`{"resourceType":"X","a":[ {"x":[{"z":1}]} , 2 ] , "t" : {"div":"<div/>"}}`), uint64(0b110))
	f.Fuzz(func(t *testing.T, in []byte, pick uint64) {
		if fjson.Validate(in, 32) != nil || len(in) == 0 || in[fjson.SkipSpace(in, 0)] != '{' {
			return
		}
		var cands []span
		collectValues(in, fjson.SkipSpace(in, 0), 0, &cands)
		var targets []span
		for k, c := range cands {
			if k < 64 && pick&(1<<k) != 0 && !insideSpans(c, targets) {
				targets = append(targets, c)
			}
		}
		if len(targets) == 0 {
			return
		}
		start, end := trim(in, 0, len(in))
		edits, err := pruneEdits(in, start, end, append([]span(nil), targets...))
		if err != nil {
			return // the whole object would go
		}
		if edits, err = sortEdits(edits); err != nil {
			t.Fatalf("overlapping edits for %s: %v", in, err)
		}
		out, err := fjson.Apply(nil, in, edits)
		if err != nil || !json.Valid(out) {
			t.Fatalf("pruned %s with %v into invalid %s (%v)", in, targets, out, err)
		}
		for _, e := range edits {
			for _, tg := range targets {
				if tg.start < e.Start && tg.end > e.Start {
					t.Fatalf("edit %v cuts into target %v of %s", e, tg, in)
				}
			}
		}
		kept := 0
		for _, tg := range targets {
			for _, e := range edits {
				if e.Start <= tg.start && e.End >= tg.end {
					kept++
					break
				}
			}
		}
		if kept != len(targets) {
			t.Fatalf("a target survived: %s → %s", in, out)
		}
	})
}

// collectValues appends the spans of the objects and strings below the top
// object.
func collectValues(b []byte, i, depth int, out *[]span) int {
	end, _ := fjson.SkipValue(b, i)
	if depth > 0 && (b[i] == '{' || b[i] == '"') {
		*out = append(*out, span{i, end})
	}
	switch b[i] {
	case '{':
		_ = fjson.ObjectEach(b, i, func(_ []byte, s, _ int) error { collectValues(b, s, depth+1, out); return nil })
	case '[':
		_ = fjson.ArrayEach(b, i, func(s, _ int) error { collectValues(b, s, depth+1, out); return nil })
	}
	return end
}

func insideSpans(c span, ss []span) bool {
	for _, s := range ss {
		if c.start >= s.start && c.end <= s.end || s.start >= c.start && s.end <= c.end {
			return true
		}
	}
	return false
}
