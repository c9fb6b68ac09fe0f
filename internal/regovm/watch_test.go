package regovm

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// watchInput is {"request": {"time_ns": t}, "b": b}, with the terms that
// hold the time.
func watchInput(t, b int64) (input ast.Value, timeTerm, request *ast.Term) {
	timeTerm = ast.NewTerm(ast.Number(strconv.FormatInt(t, 10)))
	request = ast.ObjectTerm(ast.Item(ast.StringTerm("time_ns"), timeTerm), ast.Item(ast.StringTerm("type"), ast.StringTerm("read")))
	return ast.NewObject(ast.Item(ast.StringTerm("request"), request), ast.Item(ast.StringTerm("b"), ast.IntNumberTerm(int(b)))), timeTerm, request
}

// watchPolicies use the time only in ways a Watch follows.
var watchPolicies = []string{
	`r if input.request.time_ns < 1000`,
	`r if input.request.time_ns <= 1000`,
	`r if input.request.time_ns > 1000`,
	`r if input.request.time_ns >= 1000`,
	`r if 1000 < input.request.time_ns`,
	`r if 1000 >= input.request.time_ns`,
	`r if input.request.time_ns == 1000`,
	`r if input.request.time_ns != 1000`,
	`r := "before" if { input.request.time_ns < 0 } else := "during" if { input.request.time_ns < 2000 } else := "after"`,
	`in_period(s, e) if { s <= input.request.time_ns; e == 0 }
	 in_period(s, e) if { s <= input.request.time_ns; input.request.time_ns < e }
	 r := [p | some p in [[-500, 0], [100, 900], [1000, 1000], [2000, 0]]; in_period(p[0], p[1])]`,
	`now := input.request.time_ns
	 r if { now > -3; not now > 1500 }`,
	`r if { (input.b - 10) * 100 <= input.request.time_ns; input.request.time_ns < input.b * 100 }`,
	`r := count([k | some k, v in input.request; v == 700])`,
	`r if { every x in [100, 200, 300] { x < input.request.time_ns } }`,
	`r if input.request.time_ns < "a string"`,
	`r := input.request.type`,
	`r if input.request == {"time_ns": 700, "type": "read"}`, // the planner compares member by member
}

// TestWatchIsSound: for each policy and random times, the evaluation's
// answer is the same at every value of the window it reports (both ends
// included), and the window holds the time.
func TestWatchIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for i, src := range watchPolicies {
		prog, err := Compile(ctx, "x := data.p.r", "x", parse(t, "package p\n"+src), ast.NewObject())
		if err != nil {
			t.Fatalf("policy %d: %v", i, err)
		}
		eval := func(v, b int64, w *Watch) ast.Value {
			in, tt, req := watchInput(v, b)
			if w != nil {
				w.Term, w.Holder = tt, req
			}
			got, err := prog.Eval(ctx, in, Options{StrictBuiltinErrors: true, Watch: w})
			if err != nil {
				t.Fatalf("policy %d at %d: %v", i, v, err)
			}
			return got
		}
		bounded := 0
		for range 300 {
			tm, b := int64(rng.IntN(3000))-1000, int64(rng.IntN(30))
			var w Watch
			want := eval(tm, b, &w)
			if w.Lost != "" {
				t.Fatalf("policy %d at %d: lost: %s", i, tm, w.Lost)
			}
			if w.Lo > tm || tm >= w.Hi {
				t.Fatalf("policy %d at %d: window [%d, %d) does not hold the time", i, tm, w.Lo, w.Hi)
			}
			if w.Lo != math.MinInt64 || w.Hi != math.MaxInt64 {
				bounded++
			}
			lo, hi := max(w.Lo, -5000), min(w.Hi, 5000)
			for _, v := range []int64{lo, hi - 1, lo + rng.Int64N(hi-lo), w.Lo, w.Hi - 1} {
				if got := eval(v, b, nil); (got == nil) != (want == nil) || (got != nil && ast.Compare(got, want) != 0) {
					t.Fatalf("policy %d: %v at %d, %v at %d inside its window [%d, %d)", i, want, tm, got, v, w.Lo, w.Hi)
				}
			}
		}
		if bounded == 0 && !strings.Contains(src, "string") && !strings.Contains(src, "type") {
			t.Fatalf("policy %d: never a bounded window", i)
		}
	}
}

// TestWatchWindows: the exact windows of simple comparisons.
func TestWatchWindows(t *testing.T) {
	ctx := context.Background()
	const inf, ninf = int64(math.MaxInt64), int64(math.MinInt64)
	for _, c := range []struct {
		src    string
		at     int64
		lo, hi int64
	}{
		{`r if input.request.time_ns < 1000`, 5, ninf, 1000},
		{`r if input.request.time_ns < 1000`, 1000, 1000, inf},
		{`r if input.request.time_ns <= 1000`, 1000, ninf, 1001},
		{`r if input.request.time_ns > 1000`, 1001, 1001, inf},
		{`r if input.request.time_ns == 1000`, 1000, 1000, 1001},
		{`r if input.request.time_ns != 1000`, 3, ninf, 1000},
		{`r if { input.request.time_ns >= 10; input.request.time_ns < 20 }`, 15, 10, 20},
		{`r if { input.request.time_ns >= 10; input.request.time_ns < 20 }`, 25, 20, inf},
		{`r if input.request.type == "read"`, 25, ninf, inf},
	} {
		prog, err := Compile(ctx, "x := data.p.r", "x", parse(t, "package p\n"+c.src), ast.NewObject())
		if err != nil {
			t.Fatal(err)
		}
		in, tt, req := watchInput(c.at, 0)
		w := Watch{Term: tt, Holder: req}
		if _, err := prog.Eval(ctx, in, Options{Watch: &w}); err != nil {
			t.Fatal(err)
		}
		if w.Lost != "" || w.Lo != c.lo || w.Hi != c.hi {
			t.Errorf("%s at %d: window [%d, %d) lost %q, want [%d, %d)", c.src, c.at, w.Lo, w.Hi, w.Lost, c.lo, c.hi)
		}
	}
}

// TestWatchLoses: uses of the time a window cannot follow.
func TestWatchLoses(t *testing.T) {
	ctx := context.Background()
	for _, src := range []string{
		`r if input.request.time_ns + 1 > 5`,
		`r if input.request.time_ns / 1000000000 < 1700000000`,
		`r := sprintf("%d", [input.request.time_ns])`,
		`r if object.get(input.request, "time_ns", 0) > 5`,
		`r := [input.request.time_ns]`,
		`r := {"t": input.request.time_ns}`,
		`r := {input.request.time_ns}`,
		`r := input.request.time_ns`,
		`r := input.request`,
		`r if time.now_ns() > 5`,
		`r if input.request.time_ns < 1.5`,
		`r if {"a": 1}[input.request.time_ns]`,
		`r if json.marshal(input) != ""`,
		`r := object.union(input.request, {"x": 1})`,
	} {
		prog, err := Compile(ctx, "x := data.p.r", "x", parse(t, "package p\n"+src), ast.NewObject())
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		in, tt, req := watchInput(7, 0)
		w := Watch{Term: tt, Holder: req}
		if _, err := prog.Eval(ctx, in, Options{Watch: &w}); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if w.Lost == "" {
			t.Errorf("%s: the window [%d, %d) was kept", src, w.Lo, w.Hi)
		}
	}
}

// An interned integer term is shared with the policy's constants: it
// cannot be followed by identity.
func TestWatchRefusesInternedTerms(t *testing.T) {
	prog, err := Compile(context.Background(), "x := data.p.r", "x", parse(t, "package p\nr if input.t < 100"), ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	tt := ast.IntNumberTerm(7)
	w := Watch{Term: tt}
	if _, err := prog.Eval(context.Background(), ast.NewObject(ast.Item(ast.StringTerm("t"), tt)), Options{Watch: &w}); err != nil {
		t.Fatal(err)
	}
	if w.Lost == "" {
		t.Fatalf("an interned term was watched: [%d, %d)", w.Lo, w.Hi)
	}
}
