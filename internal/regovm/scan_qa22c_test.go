package regovm

import (
	"context"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Object scans run their body from a scan state kept in the evaluation
// (scanCur), saved and restored around scans nested in the body: nested
// scans over objects, breaks out of the inner and the outer scan, and
// scans of objects inside set and array scans must come out as topdown's.
func TestObjectScansNestedMatchTopdown(t *testing.T) {
	ctx := context.Background()
	mod := `package p

pairs := [[k1, k2] | some k1, v1 in input.a; some k2, v2 in input.b; v1 == v2]
first_match if {
	some k1, v1 in input.a
	some k2, v2 in input.b
	v1 == v2
	k1 != k2
}
every_inner if {
	every v1 in input.a {
		some k2, v2 in input.b
		v1 == v2
		k2 != ""
	}
}
count_after := n if {
	some v in input.a
	v == 2
	n := count([k2 | some k2, v2 in input.b; v2 > v])
}
nested := {k: [k2 | some k2, _ in x] | some k, x in input.c}
in_set := {[s, k] | some s in {"p", "q"}; some k, _ in input.a}
last_key := k if {
	some k, v in input.a
	inner := {k2 | some k2, v2 in input.b; v2 == v}
	count(inner) > 1
}
`
	mods := parse(t, mod)
	inputs := []string{
		`{}`,
		`{"a": {}, "b": {}, "c": {}}`,
		`{"a": {"x": 1, "y": 2, "z": 3}, "b": {"y": 2, "w": 1, "v": 3, "u": 2}, "c": {"m": {"a": 1, "b": 2}, "n": {}}}`,
		`{"a": {"x": 1}, "b": {"x": 1}, "c": {"m": {"z": 1}}}`,
		`{"a": {"a": 5, "b": 2}, "b": {"c": 5, "d": 2, "e": 7}, "c": {"o": {"p": {"q": 1}}}}`,
	}
	n := 0
	for _, rule := range []string{"pairs", "first_match", "every_inner", "count_after", "nested", "in_set", "last_key"} {
		q := "x := data.p." + rule
		prog, err := Compile(ctx, q, "x", mods, ast.NewObject())
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		for _, in := range inputs {
			input := ast.MustParseTerm(in).Value
			want, werr := reference(t, q, mods, map[string]any{}, input)
			got, gerr := prog.Eval(ctx, input, Options{Time: time.Unix(1700000000, 0), StrictBuiltinErrors: true})
			if (werr != nil) != (gerr != nil) || !equal(want, got) {
				t.Errorf("%s with %s: topdown %v (%v), regovm %v (%v)", rule, in, want, werr, got, gerr)
			}
			n++
		}
	}
	if n != 35 {
		t.Fatalf("%d evaluations compared", n)
	}
}

// An object scan allocates nothing per scan or per member: it neither
// copies the object's keys nor looks each one up again.
func TestObjectScanAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	ctx := context.Background()
	mods := parse(t, "package p\n\nfound if {\n\tsome k, v in input.o\n\tv == 99\n}\n")
	prog, err := Compile(ctx, "x := data.p.found", "x", mods, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	small := ast.MustParseTerm(`{"o": {"a": 1}}`).Value
	big := ast.MustParseTerm(`{"o": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10, "k": 11, "l": 12, "m": 13, "n": 14, "o": 15, "p": 16}}`).Value
	eval := func(in ast.Value) func() {
		return func() {
			if v, err := prog.Eval(ctx, in, Options{}); err != nil || v != nil {
				t.Fatal(v, err)
			}
		}
	}
	eval(big)() // the pool holds a state, the keys are sorted
	a1, a16 := testing.AllocsPerRun(50, eval(small)), testing.AllocsPerRun(50, eval(big))
	if a16 != a1 {
		t.Errorf("scanning 16 members costs %v allocations, 1 member %v: the scan allocates per member", a16, a1)
	}
	// The same evaluation with the scan taken out: what the scan adds.
	none := parse(t, "package p\n\nfound if {\n\tinput.o.zz == 99\n}\n")
	pn, err := Compile(ctx, "x := data.p.found", "x", none, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	base := testing.AllocsPerRun(50, func() { _, _ = pn.Eval(ctx, big, Options{}) })
	if a16 > base {
		t.Errorf("an object scan costs %v allocations against %v without it", a16, base)
	}
}

// An array the plan makes with a capacity (a literal) has room for its
// elements' hashes as well as for the elements: each append then costs
// the array's own two allocations (its new header and term, ast.Array's
// Append), and no growth of the hashes.
func TestArrayLiteralGrowsNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	ctx := context.Background()
	allocs := func(src string) float64 {
		t.Helper()
		prog, err := Compile(ctx, "x := data.p.a", "x", parse(t, "package p\n\n"+src+"\n"), ast.NewObject())
		if err != nil {
			t.Fatal(err)
		}
		in := ast.MustParseTerm(`{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8"}`).Value
		f := func() {
			if v, err := prog.Eval(ctx, in, Options{}); err != nil || v == nil {
				t.Fatal(v, err)
			}
		}
		f()
		return testing.AllocsPerRun(50, f)
	}
	one := allocs("a := [input.a]")
	eight := allocs("a := [input.a, input.b, input.c, input.d, input.e, input.f, input.g, input.h]")
	if eight-one > 7*2 {
		t.Errorf("an array literal of 8 costs %v allocations, one of 1 %v: more than 2 per element", eight, one)
	}
}
