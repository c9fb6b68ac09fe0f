package fjson

import (
	"strings"
	"testing"
)

// checkWalk walks the whole document b with a Checker, opening every
// object and array (or, with skipAt, checking values at that depth and
// below whole with Value), as a walker that reads b for its own purpose
// does.
func checkWalk(b []byte, maxDepth, skipAt int) error {
	var c Checker
	c.Reset(b, maxDepth)
	var walk func(i, d int) (int, error)
	walk = func(i, d int) (int, error) {
		i = SkipSpace(b, i)
		if i >= len(b) || d >= skipAt || (b[i] != '{' && b[i] != '[') {
			return c.Value(i, d)
		}
		if b[i] == '{' {
			return c.ObjectScan(i, d+1, func(_ []byte, v int) (int, error) { return walk(v, d+1) })
		}
		return c.ArrayScan(i, d+1, func(v int) (int, error) { return walk(v, d+1) })
	}
	end, err := walk(0, 0)
	if err != nil {
		return err
	}
	if SkipSpace(b, end) != len(b) {
		return errAt(end, "data after top-level value")
	}
	return nil
}

// checkCases are documents on both sides of Validate's rules.
var checkCases = []struct {
	in    string
	depth int
}{
	{`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, 2},
	{`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, 1},
	{`{"a":1,"b":2,"a":3}`, 1},
	{`{"security":[],"s\u0065curity":[]}`, 2},
	{`{"meta":{"security":[],"tag":[],"security":[]}}`, 3},
	{`{"a":{"b":1,"c":{"d":1}},"d":2,"c":3,"b":4}`, 3},
	{`{"a":{"b":1,"c":{"d":1}},"d":2,"a":3}`, 3},
	{`{"x":[{"a":1},{"b":{"c":1},"c":2,"b":3}]}`, 4},
	{`[[[[]]]]`, 3}, {`[[[[]]]]`, 4}, {`{"a":{"b":{}}}`, 2}, {`{"a":{"b":{}}}`, 3},
	{"{\"a\":\"\xff\"}", 2}, {`{"a":01}`, 2}, {`{"a":1,}`, 2}, {`{"a" 1}`, 2}, {`{"a":[1,]}`, 2},
	{`{"a":"\u12g4"}`, 2}, {`{"a":tru}`, 2}, {`{"a":1`, 2}, {`{"a":"x`, 2}, {"{\"a\":\"\n\"}", 2},
	{` {"a" : [ 1 , 2 ] , "b" : { } } `, 2},
}

func TestCheckerIsValidate(t *testing.T) {
	t.Parallel()
	big := `{`
	for k := range 200 { // past quadraticKeys: the map path
		if k > 0 {
			big += ","
		}
		big += `"k` + string(rune('a'+k%26)) + string(rune('a'+k/26)) + `":{"x":1,"y":[1]}`
	}
	cases := append(checkCases[:len(checkCases):len(checkCases)],
		struct {
			in    string
			depth int
		}{big + `}`, 3}, struct {
			in    string
			depth int
		}{big + `,"kaa":1}`, 3})
	for _, tc := range cases {
		want := Validate([]byte(tc.in), tc.depth)
		for skipAt := range 5 {
			got := checkWalk([]byte(tc.in), tc.depth, skipAt)
			if (got == nil) != (want == nil) {
				t.Errorf("%q depth %d skip at %d: Checker walk says %v, Validate %v", tc.in, tc.depth, skipAt, got, want)
			}
		}
	}
}

func TestValidateHoles(t *testing.T) {
	t.Parallel()
	b := []byte(`{"entry":[{"resource":{"a":{"b":1}},"x":1},{"resource":{"c":2}}],"total":2}`)
	r1 := strings.Index(string(b), `{"a"`)
	r2 := strings.Index(string(b), `{"c"`)
	holes := func() []Hole {
		return []Hole{{Start: r1, End: r1 + len(`{"a":{"b":1}}`), Depth: 3}, {Start: r2, End: r2 + len(`{"c":2}`), Depth: 3}}
	}
	if err := ValidateHoles(b, 5, holes()); err != nil {
		t.Fatalf("ValidateHoles = %v, want nil", err)
	}
	if err := ValidateHoles(b, 5, nil); err != nil {
		t.Fatalf("ValidateHoles without holes = %v, want nil", err)
	}
	// A hole is not read: garbage inside it passes, and is the other
	// walk's to refuse.
	bad := []byte(strings.Replace(string(b), `{"c":2}`, `{"c":2,"c"`, 1))
	if err := ValidateHoles(bad, 5, []Hole{holes()[0], {Start: r2, End: r2 + len(`{"c":2,"c"`), Depth: 3}}); err != nil {
		t.Fatalf("ValidateHoles over a hole of garbage = %v, want nil", err)
	}
	for name, tc := range map[string]struct {
		b     []byte
		holes []Hole
		err   string
	}{
		"wrong depth":         {b, []Hole{{Start: r1, End: r1 + 13, Depth: 2}}, "depth"},
		"not at a value":      {b, []Hole{{Start: r1 + 1, End: r1 + 4, Depth: 4}}, "not at a value"},
		"at a key":            {b, []Hole{{Start: r1 + 6, End: r1 + 12, Depth: 4}}, "not at a value"},
		"inner value":         {b, []Hole{{Start: r1 + 10, End: r1 + 11, Depth: 4}}, "depth"},
		"past the last value": {b, []Hole{{Start: len(b) - 1, End: len(b), Depth: 1}}, "not at a value"},
		"overlapping":         {b, []Hole{{Start: r1, End: r2 + 1, Depth: 3}, {Start: r2, End: r2 + 7, Depth: 3}}, "out of place"},
		"out of range":        {b, []Hole{{Start: r1, End: len(b) + 1, Depth: 3}}, "out of place"},
		"too deep around":     {b, nil, "nesting too deep"},
		"skeleton invalid":    {[]byte(strings.Replace(string(b), `"x":1`, `"x":01`, 1)), holes(), "expected comma"},
		"skeleton duplicate":  {[]byte(strings.Replace(string(b), `"x":1`, `"resource":1`, 1)), holes(), "duplicate key"},
	} {
		depth := 5
		if name == "too deep around" {
			depth = 2
		}
		err := ValidateHoles(tc.b, depth, tc.holes)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: ValidateHoles = %v, want an error containing %q", name, err, tc.err)
		}
	}
}

// FuzzValidateHoles checks that ValidateHoles over any holes, each then
// walked with a Checker at its depth, never accepts what Validate refuses,
// and accepts every valid body whose holes are where its objects are.
func FuzzValidateHoles(f *testing.F) {
	for _, tc := range checkCases {
		f.Add([]byte(tc.in), uint8(tc.depth), uint8(1))
	}
	f.Add([]byte(`{"entry":[{"resource":{"a":{"b":1}}},{"resource":{"a":1,"a":2}}]}`), uint8(6), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, depth, every uint8) {
		holes := guessHoles(b, int(every%4)+1)
		ok := ValidateHoles(b, int(depth), holes) == nil
		for _, h := range holes {
			if !ok {
				break
			}
			ok = checkWalk(b[h.Start:h.End], int(depth)-h.Depth, 1+int(every%3)) == nil
		}
		valid := Validate(b, int(depth)) == nil
		if ok && !valid {
			t.Fatalf("ValidateHoles(%q, %d, %v) and the Checker accept what Validate refuses", b, depth, holes)
		}
		if valid && !ok && truthful(b, holes) {
			t.Fatalf("ValidateHoles(%q, %d, %v) refuses a valid body with its holes in place", b, depth, holes)
		}
	})
}

// guessHoles picks every nth object of b, outside the previous pick, as a
// hole at the depth a count of brackets gives it: right for valid input,
// anything on the rest.
func guessHoles(b []byte, nth int) []Hole {
	var holes []Hole
	depth, seen, after := 0, 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, ok := stringEnd(b, i)
			if !ok {
				return holes
			}
			i = end - 1
		case '{':
			if seen++; seen%nth == 0 && i >= after {
				if end, err := SkipValid(b, i); err == nil && end > i {
					holes = append(holes, Hole{Start: i, End: end, Depth: depth})
					after = end
				}
			}
			depth++
		case '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return holes
}

// truthful reports whether each hole of the valid body b is a value that
// starts and ends where its bounds say (SkipValue agrees on its end).
func truthful(b []byte, holes []Hole) bool {
	for _, h := range holes {
		end, err := SkipValue(b, h.Start)
		if err != nil || end != h.End {
			return false
		}
	}
	return true
}

// TestDuplicateKeyAnywhere: in objects of up to 140 keys (past the map's
// threshold and the bloom filter's 64 bits), a copy of any key, spelt
// plainly or with an escape, is found wherever it comes, by Validate and
// by the Checker.
func TestDuplicateKeyAnywhere(t *testing.T) {
	t.Parallel()
	name := func(k int) string { return "k" + string(rune('a'+k%26)) + string(rune('a'+k/26)) }
	for _, n := range []int{1, 2, 7, 63, 64, 65, 140} {
		for j := range n {
			esc := `\u006b` + name(j)[1:]
			for _, c := range [][2]string{{name(j), name(j)}, {name(j), esc}, {esc, name(j)}} {
				first, dup := c[0], c[1]
				var sb strings.Builder
				sb.WriteString(`{`)
				for k := range n {
					if k == j {
						sb.WriteString(`"` + first + `":1,`)
						continue
					}
					sb.WriteString(`"` + name(k) + `":1,`)
				}
				sb.WriteString(`"` + dup + `":2}`)
				b := []byte(sb.String())
				if err := Validate(b, 2); err == nil || !strings.Contains(err.Error(), "duplicate key") {
					t.Fatalf("%d keys, copy of key %d as %q: Validate = %v", n, j, dup, err)
				}
				if err := checkWalk(b, 2, 1); err == nil {
					t.Fatalf("%d keys, copy of key %d as %q: the Checker accepted it", n, j, dup)
				}
			}
		}
		var sb strings.Builder
		sb.WriteString(`{`)
		for k := range n {
			if k > 0 {
				sb.WriteString(`,`)
			}
			sb.WriteString(`"` + name(k) + `":1`)
		}
		sb.WriteString(`,"k\u00e9":1}`)
		if err := Validate([]byte(sb.String()), 2); err != nil {
			t.Fatalf("%d distinct keys: %v", n, err)
		}
	}
}
