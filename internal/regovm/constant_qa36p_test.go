package regovm

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

const constantsPolicy = `package p

# constant: the data and constants only, through a function with arguments
hier := {k: v | some k, v in data.cfg.h}
rank[l] := i if some i, l in data.cfg.order
names := {n | some n in object.keys(hier)}
joined := concat(",", sort([n | some n in names]))
bump(x) := x + count(names)
bumped := bump(1)

# not constant: reads the input, directly or through another rule
wanted := input.w
reach := graph.reachable(hier, {wanted})
at := time.now_ns()
late := at > 0
shown := x if { x := "constant"; print("hello") }

# a built-in's error: not kept, each evaluation fails (or, not strict, is undefined) as before
bad := to_number("not a number")

r := {"joined": joined, "rank": rank, "reach": reach, "late": late, "bumped": bumped, "shown": shown}
b := bad
`

func jsonData(t *testing.T, js string) (map[string]any, ast.Value) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		t.Fatal(err)
	}
	v, err := ast.InterfaceToValue(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, v
}

func constantRule(t *testing.T, p *Program, rule string) bool {
	t.Helper()
	i, ok := p.byName["g0.data.p."+rule]
	if !ok {
		t.Fatalf("no rule %s in the plan", rule)
	}
	return p.funcs[i].constant != nil
}

// TestConstantRulesQA36P: a rule that reads no input, and calls no
// nondeterministic or effectful built-in, is worked out when the program is
// compiled and evaluations read it; the value follows the program's data;
// others, and one whose evaluation fails, are worked out by each evaluation.
func TestConstantRulesQA36P(t *testing.T) {
	mods := parse(t, constantsPolicy)
	raw, data := jsonData(t, `{"cfg": {"h": {"a": ["b"], "b": ["c"], "c": []}, "order": ["L", "M", "N"]}}`)
	prog, err := Compile(context.Background(), "x := data.p.r", "x", mods, data)
	if err != nil {
		t.Fatal(err)
	}
	for rule, want := range map[string]bool{
		"hier": true, "rank": true, "names": true, "joined": true, "bumped": true,
		"wanted": false, "reach": false, "at": false, "late": false,
		"shown": true, // print is not planned: the planner drops it
	} {
		if got := constantRule(t, prog, rule); got != want {
			t.Errorf("rule %s: constant %v, want %v", rule, got, want)
		}
	}
	in := ast.MustParseTerm(`{"w": "a"}`).Value
	want, err := reference(t, "x := data.p.r", mods, raw, in)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := prog.Eval(context.Background(), in, Options{StrictBuiltinErrors: true})
		if err != nil || !equal(got, want) {
			t.Fatalf("got %v (%v), want %v", got, err, want)
		}
	}

	// A builtin's error is not kept: strict evaluations fail, others are undefined.
	progB, err := Compile(context.Background(), "x := data.p.b", "x", mods, data)
	if err != nil {
		t.Fatal(err)
	}
	if constantRule(t, progB, "bad") {
		t.Error("rule bad: constant, but its evaluation fails")
	}
	for range 2 {
		if v, err := progB.Eval(context.Background(), in, Options{StrictBuiltinErrors: true}); err == nil {
			t.Fatalf("strict: %v, want an error", v)
		}
		if v, err := progB.Eval(context.Background(), in, Options{}); err != nil || v != nil {
			t.Fatalf("not strict: %v (%v), want undefined", v, err)
		}
	}

	// Other data (a reload compiles a new program): other constants.
	raw2, data2 := jsonData(t, `{"cfg": {"h": {"z": []}, "order": ["N", "M", "L"]}}`)
	prog2, err := Compile(context.Background(), "x := data.p.r", "x", mods, data2)
	if err != nil {
		t.Fatal(err)
	}
	in2 := ast.MustParseTerm(`{"w": "z"}`).Value
	want2, err := reference(t, "x := data.p.r", mods, raw2, in2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := prog2.Eval(context.Background(), in2, Options{StrictBuiltinErrors: true}); err != nil || !equal(got, want2) {
		t.Fatalf("other data: got %v (%v), want %v", got, err, want2)
	}
}

// TestConstantRulesSharedQA36P: evaluations on many goroutines read the
// same constant values (sets and objects, whose keys OPA sorts on first
// use) and answer as one evaluation does. Run with -race.
func TestConstantRulesSharedQA36P(t *testing.T) {
	mods := parse(t, `package p
s := {x | some x in data.xs}
o := {x: true | some x in data.xs}
r := {"s": concat(",", s), "k": [k | some k, _ in o], "n": count(s & {input.n}), "o": o}
`)
	xs := make([]any, 200)
	for i := range xs {
		xs[i] = fmt.Sprintf("v%03d", (i*7)%200)
	}
	raw := map[string]any{"xs": xs}
	data, err := ast.InterfaceToValue(raw)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(context.Background(), "x := data.p.r", "x", mods, data)
	if err != nil {
		t.Fatal(err)
	}
	if !constantRule(t, prog, "s") || !constantRule(t, prog, "o") {
		t.Fatal("s and o should be constant")
	}
	in := ast.MustParseTerm(`{"n": "v007"}`).Value
	want, err := reference(t, "x := data.p.r", mods, raw, in)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got, err := prog.Eval(context.Background(), in, Options{StrictBuiltinErrors: true})
				if err != nil || !equal(got, want) {
					errs <- fmt.Errorf("got %v (%v), want %v", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
