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

// FuzzChecker: a walk through a Checker, opening values down to some depth
// and checking the rest whole, accepts exactly what Validate accepts.
func FuzzChecker(f *testing.F) {
	for _, tc := range checkCases {
		f.Add([]byte(tc.in), uint8(tc.depth), uint8(1))
	}
	f.Add([]byte(`{"entry":[{"resource":{"a":{"b":1}}},{"resource":{"a":1,"a":2}}]}`), uint8(6), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, depth, skipAt uint8) {
		got := checkWalk(b, int(depth), int(skipAt%8))
		want := Validate(b, int(depth))
		if (got == nil) != (want == nil) {
			t.Fatalf("%q depth %d skip at %d: Checker walk says %v, Validate %v", b, depth, skipAt%8, got, want)
		}
	})
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
