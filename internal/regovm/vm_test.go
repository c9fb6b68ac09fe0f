package regovm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// topdown evaluates query with OPA's own evaluator: the reference every
// case below is checked against.
func reference(t *testing.T, query string, mods map[string]*ast.Module, data map[string]any, input ast.Value) (ast.Value, error) {
	t.Helper()
	opts := []func(*rego.Rego){
		rego.Query(query), rego.Store(inmem.NewFromObject(data)),
		rego.StrictBuiltinErrors(true), rego.SetRegoVersion(ast.RegoV1),
		rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }),
	}
	for _, m := range mods {
		opts = append(opts, rego.ParsedModule(m))
	}
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	evalOpts := []rego.EvalOption{rego.EvalTime(time.Unix(1700000000, 0))}
	if input != nil {
		evalOpts = append(evalOpts, rego.EvalParsedInput(input))
	}
	rs, err := pq.Eval(context.Background(), evalOpts...)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return rs[0].Bindings["x"].(ast.Value), nil
}

func parse(t *testing.T, src string) map[string]*ast.Module {
	t.Helper()
	m, err := ast.ParseModuleWithOpts("p.rego", src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*ast.Module{"p.rego": m}
}

// vmCase is one module, queried for data.p.<rule> with each input.
type vmCase struct {
	name   string
	module string
	rules  []string
	inputs []string
}

var vmData = map[string]any{
	"cfg": map[string]any{
		"labels":   []any{"a|SUD", "a|PSY", "b|42CFRPart2"},
		"purposes": []any{"TREAT", "HPAYMT", "HOPERAT"},
		"topics":   map[string]any{"HIV": map[string]any{"law": "x", "free": []any{"TREAT"}}, "PSY": map[string]any{"law": "y", "free": []any{}}},
		"n":        3.5,
	},
}

var vmCases = []vmCase{
	{
		name: "complete rules, defaults and else",
		module: `package p
default allow := false
allow if input.role == "admin"
allow if { some r in input.roles; r == "admin" }
level := "high" if { input.n > 10 } else := "mid" if { input.n > 5 } else := "low"
nested := x if { x := input.a.b.c }
num := input.n + 1
`,
		rules:  []string{"allow", "level", "nested", "num"},
		inputs: []string{`{}`, `{"role":"admin","n":11}`, `{"roles":["x","admin"],"n":6}`, `{"n":1,"a":{"b":{"c":[1,2]}}}`, `{"n":"s"}`},
	},
	{
		name: "partial sets and objects, comprehensions",
		module: `package p
s contains x if { some x in input.xs; x > 1 }
o[k] := v if { some k, v in input.obj; v != null }
arr := [y | some y in input.xs; y != 2]
set := {y | some y in input.xs}
obj := {k: count(v) | some k, v in input.strs}
cnt := count(s)
sorted := sort([v | some v in s])
`,
		rules:  []string{"s", "o", "arr", "set", "obj", "cnt", "sorted"},
		inputs: []string{`{}`, `{"xs":[3,1,2,2],"obj":{"a":1,"b":null},"strs":{"x":"héllo","y":[1]}}`, `{"xs":[]}`},
	},
	{
		name: "not, every, functions and data",
		module: `package p
import rego.v1
labelled(l) if l in data.cfg.labels
restricted if { some l in input.labels; labelled(l) }
ordinary if not restricted
within(allowed) if { count(input.purposes) > 0; every p in input.purposes { p in allowed } }
tpo if within(data.cfg.purposes)
free(t) := data.cfg.topics[t].free
topic_ok(t) if { every p in input.purposes { p in free(t) } }
oks := {t: topic_ok(t) | some t, _ in data.cfg.topics}
missing := object.get(data.cfg.topics, ["ZZZ", "law"], "none")
msg := concat("; ", [sprintf("%s: %s", [t, data.cfg.topics[t].law]) | some t, _ in data.cfg.topics])
num := data.cfg.n * 2
un := object.union({"a": 1}, {"b": input.b})
`,
		rules: []string{"restricted", "ordinary", "tpo", "oks", "missing", "msg", "num", "un"},
		inputs: []string{`{}`, `{"labels":["a|SUD"],"purposes":["TREAT"]}`, `{"labels":["z"],"purposes":["TREAT","ETREAT"],"b":[1]}`,
			`{"purposes":[]}`},
	},
	{
		name: "arrays, destructuring, membership and negation",
		module: `package p
first := x if [x, _] := input.pair
has if "b" in input.set
idx := i if { some i, v in input.arr; v == "q" }
notany if { not input.flag }
differ if input.a != input.b
less if input.a < input.b
`,
		rules:  []string{"first", "has", "idx", "notany", "differ", "less"},
		inputs: []string{`{}`, `{"pair":[1,2],"set":["a","b"],"arr":["p","q"],"flag":false,"a":1,"b":2}`, `{"pair":[1],"flag":true,"a":"x","b":"x"}`},
	},
}

var moreCases = []vmCase{
	{
		name: "rule heads with refs, multi-value rules, whole documents",
		module: `package p
a.b.c := 1 if input.x
a.b.d := input.y
m[k] contains v if { some k, vs in input.groups; some v in vs }
doc := data.p.a
whole := data.cfg
`,
		rules:  []string{"a", "doc", "m", "whole"},
		inputs: []string{`{}`, `{"x":true,"y":[1]}`, `{"groups":{"g":[1,2],"h":[]}}`},
	},
	{
		name: "patterns and unification",
		module: `package p
obj_pat := x if {"a": x} = input.o
arr_pat := [a, b] if [a, b] = input.arr
nested := v if { v := input.arr[1].k; v != "" }
first := input.arr[0]
eqs if { x := input.n; x == 3 }
bind := y if { y = input.n + 1 }
`,
		rules:  []string{"obj_pat", "arr_pat", "nested", "first", "eqs", "bind"},
		inputs: []string{`{}`, `{"o":{"a":5},"arr":[1,{"k":"z"}],"n":3}`, `{"o":{"b":5},"arr":[1,2,3],"n":"x"}`},
	},
	{
		name: "every over objects, nested every, not with functions, defaults",
		module: `package p
default f(_) := "none"
f(x) := "big" if x > 10
f(x) := "small" if x < 0
allpos if every k, v in input.o { v > 0; k != "bad" }
grid if every row in input.rows { every c in row { c != 0 } }
nf if not g(input.n)
g(x) if x == 1
fs := [f(x) | some x in input.nums]
`,
		rules:  []string{"allpos", "grid", "nf", "fs"},
		inputs: []string{`{}`, `{"o":{"a":1,"b":2},"rows":[[1,2],[3]],"n":2,"nums":[11,-1,5]}`, `{"o":{"bad":1},"rows":[[1,0]],"n":1,"nums":[]}`, `{"o":[],"rows":{}}`},
	},
	{
		name: "strings, numbers and other built-ins",
		module: `package p
s1 if startswith(input.s, "Organization/")
s2 := split(input.s, "/")
s3 := lower(input.s)
s4 := trim_space(concat(" ", ["a", input.s]))
r if regex.match("^Org", input.s)
n1 := (input.a * 3) / 2
n2 := round(input.a / 3)
n3 if input.a == 2.0
t := time.parse_rfc3339_ns(input.ts)
j := json.marshal({"a": input.a})
u := union({{1}, {2, input.a}})
o := object.keys({"x": 1, "y": input.a})
sub := substring(input.s, 0, 3)
now := time.now_ns()
`,
		rules:  []string{"s1", "s2", "s3", "s4", "r", "n1", "n2", "n3", "t", "j", "u", "o", "sub", "now"},
		inputs: []string{`{}`, `{"s":"Organization/org-a","a":2,"ts":"2026-01-01T00:00:00Z"}`, `{"s":"x","a":2.5,"ts":"bad"}`},
	},
}

func TestMatchesTopdown(t *testing.T) {
	ctx := context.Background()
	data, err := ast.InterfaceToValue(vmData)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range append(append([]vmCase{}, vmCases...), moreCases...) {
		mods := parse(t, c.module)
		for _, rule := range c.rules {
			q := "x := data.p." + rule
			prog, err := Compile(ctx, q, "x", mods, data)
			if err != nil {
				t.Fatalf("%s: %s: %v", c.name, rule, err)
			}
			for _, in := range c.inputs {
				input := ast.MustParseTerm(in).Value
				want, werr := reference(t, q, mods, vmData, input)
				got, gerr := prog.Eval(ctx, input, Options{Time: time.Unix(1700000000, 0), StrictBuiltinErrors: true})
				if (werr != nil) != (gerr != nil) {
					t.Errorf("%s: %s with %s: topdown error %v, regovm error %v", c.name, rule, in, werr, gerr)
					continue
				}
				if !equal(want, got) {
					t.Errorf("%s: %s with %s: topdown %v, regovm %v", c.name, rule, in, want, got)
				}
				n++
			}
		}
	}
	t.Logf("%d evaluations compared", n)
}

func equal(a, b ast.Value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return ast.Compare(a, b) == 0
}

func TestConflictIsAnError(t *testing.T) {
	mods := parse(t, `package p
r := 1 if input.a
r := 2 if input.b
`)
	prog, err := Compile(context.Background(), "x := data.p.r", "x", mods, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	_, err = prog.Eval(context.Background(), ast.MustParseTerm(`{"a":true,"b":true}`).Value, Options{})
	if err == nil {
		t.Fatal("two values for a complete rule evaluated without an error")
	}
	v, err := prog.Eval(context.Background(), ast.MustParseTerm(`{"a":true}`).Value, Options{})
	if err != nil || !equal(v, ast.Number("1")) {
		t.Fatalf("got %v, %v; want 1", v, err)
	}
}

func TestStrictBuiltinErrors(t *testing.T) {
	mods := parse(t, `package p
r := sprintf("%d", [input.x]) if true
d := x if { x := input.n / input.d }
`)
	prog, err := Compile(context.Background(), "x := data.p.d", "x", mods, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	in := ast.MustParseTerm(`{"n":1,"d":0}`).Value
	if _, err := prog.Eval(context.Background(), in, Options{StrictBuiltinErrors: true}); err == nil {
		t.Error("division by zero evaluated without an error under strict built-in errors")
	}
	if v, err := prog.Eval(context.Background(), in, Options{}); err != nil || v != nil {
		t.Errorf("non-strict: got %v, %v; want undefined", v, err)
	}
}

func TestUnsupportedIsRefused(t *testing.T) {
	mods := parse(t, `package p
r if input.x with input.x as true
`)
	_, err := Compile(context.Background(), "x := data.p.r", "x", mods, ast.NewObject())
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("a with statement compiled (err %v)", err)
	}
}

func TestCanceled(t *testing.T) {
	mods := parse(t, `package p
r if input.x
`)
	prog, err := Compile(context.Background(), "x := data.p.r", "x", mods, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := prog.Eval(ctx, ast.MustParseTerm(`{"x":true}`).Value, Options{}); err == nil {
		t.Fatal("a canceled evaluation succeeded")
	}
}

func ExampleProgram_Eval() {
	mod := ast.MustParseModuleWithOpts(`package p
allow if input.purpose in {"TREAT", "HPAYMT"}`, ast.ParserOptions{RegoVersion: ast.RegoV1})
	prog, err := Compile(context.Background(), "x := data.p.allow", "x",
		map[string]*ast.Module{"p.rego": mod}, ast.NewObject())
	if err != nil {
		panic(err)
	}
	v, _ := prog.Eval(context.Background(), ast.MustParseTerm(`{"purpose": "TREAT"}`).Value, Options{})
	fmt.Println(v)
	// Output: true
}

// A reference that covers policy data and rules at once (data.cfg here)
// merges the two documents (ObjectMergeStmt).
func TestMergesDataAndRules(t *testing.T) {
	ctx := context.Background()
	mods := parse(t, `package cfg
extra := count(input.xs)
topics.NEW := {"law": "z"}
`)
	data, err := ast.InterfaceToValue(vmData)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"x := data.cfg", "x := data", "x := data.cfg.topics"} {
		prog, err := Compile(ctx, q, "x", mods, data)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, in := range []string{`{}`, `{"xs":[1,2]}`} {
			input := ast.MustParseTerm(in).Value
			want, werr := reference(t, q, mods, vmData, input)
			got, gerr := prog.Eval(ctx, input, Options{StrictBuiltinErrors: true})
			if werr != nil || gerr != nil || !equal(want, got) {
				t.Errorf("%s with %s: topdown %v (%v), regovm %v (%v)", q, in, want, werr, got, gerr)
			}
		}
	}
}

// TestFirstCompileRacesNothing: a process's first Compile runs while other
// goroutines prepare OPA queries, as engines loading in parallel do. OPA
// reads its target plugin registry without a lock, so registering the plan
// target lazily, on the first Compile, was a data race; the race detector
// (make test runs with it) fails the child process if it comes back. The
// child runs this test alone, so that its Compile is the process's first.
func TestFirstCompileRacesNothing(t *testing.T) {
	if os.Getenv("REGOVM_FIRST_COMPILE") == "1" {
		ctx := context.Background()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_ = rego.New(rego.Query("x := 1"))
				}
			})
		}
		mods := map[string]*ast.Module{"m.rego": ast.MustParseModule("package m\n\nimport rego.v1\n\nallow if input.x == 1\n")}
		_, err := Compile(ctx, "r := data.m.allow", "r", mods, ast.NewObject())
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFirstCompileRacesNothing$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REGOVM_FIRST_COMPILE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the child process failed: %v\n%s", err, out)
	}
}
