package regovm

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// slowPolicies take seconds to tens of seconds to evaluate in full: one
// in its loops (10^8 elements scanned, no call of a planned function
// inside them), one in a built-in (numbers.range building a 2*10^7
// element array, which polls BuiltinContext.Cancel).
var slowPolicies = map[string]string{
	"loops": `package p
xs := numbers.range(1, 10000)
r := count([1 | some a in xs; some b in xs; a == b])
`,
	"builtin": `package p
r := count(numbers.range(1, 20000000))
`,
}

// A slow evaluation stops soon after its context ends, with an error that
// says so, whether built-in errors are strict or not (numbers.range's is a
// Halt, which fails the evaluation under topdown either way).
func TestSlowEvaluationStopsAtDeadline(t *testing.T) {
	const deadline = 100 * time.Millisecond
	for name, src := range slowPolicies {
		prog, err := Compile(context.Background(), "x := data.p.r", "x", parse(t, src), ast.NewObject())
		if err != nil {
			t.Fatal(err)
		}
		for _, strict := range []bool{true, false} {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			start := time.Now()
			v, err := prog.Eval(ctx, ast.NewObject(), Options{StrictBuiltinErrors: strict})
			took := time.Since(start)
			cancel()
			t.Logf("%s (strict %v): %v, %v after %v", name, strict, v, err, took)
			if err == nil {
				t.Errorf("%s (strict %v): evaluated to %v past its deadline, without an error", name, strict, v)
			} else if !errors.Is(err, context.DeadlineExceeded) || !topdown.IsCancel(err) {
				t.Errorf("%s (strict %v): error %v is not a cancellation", name, strict, err)
			}
			// A correctness bound, not a performance one: the machine
			// is shared. In full these take seconds to tens of seconds.
			if took > 5*time.Second {
				t.Errorf("%s (strict %v): stopped %v after a deadline of %v", name, strict, took, deadline)
			}
		}
	}
}

// A context that ends while an evaluation runs makes it fail even when no
// later call or scan looks at the context: the end is checked once more
// before the answer is given.
func TestEndedContextGivesNoAnswer(t *testing.T) {
	prog, err := Compile(context.Background(), "x := data.p.r", "x", parse(t, `package p
r := 1
`), ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v, err := prog.Eval(ctx, nil, Options{}); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %v; want a cancellation error", v, err)
	}
	if v, err := prog.Eval(context.Background(), nil, Options{}); err != nil || !equal(v, ast.Number("1")) {
		t.Fatalf("after a cancelled evaluation (its state reused): got %v, %v; want 1", v, err)
	}
}

// Built-ins see the end of the context (BuiltinContext.Cancel) without a
// goroutine or a registration per evaluation: many evaluations under
// contexts that end leave the goroutines as they were.
func TestCancelStartsNoGoroutines(t *testing.T) {
	prog, err := Compile(context.Background(), "x := data.p.r", "x", parse(t, `package p
r := count(numbers.range(1, input.n))
`), ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	in := ast.MustParseTerm(`{"n": 10}`).Value
	before := runtime.NumGoroutine()
	for range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		v, err := prog.Eval(ctx, in, Options{StrictBuiltinErrors: true})
		if err != nil || !equal(v, ast.Number("10")) {
			t.Fatalf("got %v, %v; want 10", v, err)
		}
		if runtime.NumGoroutine() > before+2 {
			t.Fatalf("%d goroutines during evaluations, %d before", runtime.NumGoroutine(), before)
		}
		cancel()
	}
}

// deadlineOnly reports a deadline that no timer enforces: Done and Err
// are Background's (as package policy's decision budget).
type deadlineOnly struct {
	context.Context
	at time.Time
}

func (c deadlineOnly) Deadline() (time.Time, bool) { return c.at, true }

// A context's deadline is honoured from the clock, with or without a timer
// that ends the context.
func TestDeadlineWithoutTimer(t *testing.T) {
	for name, src := range slowPolicies {
		prog, err := Compile(context.Background(), "x := data.p.r", "x", parse(t, src), ast.NewObject())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx := deadlineOnly{context.Background(), start.Add(100 * time.Millisecond)}
		v, err := prog.Eval(ctx, ast.NewObject(), Options{StrictBuiltinErrors: true})
		took := time.Since(start)
		t.Logf("%s: %v, %v after %v", name, v, err, took)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: got %v, %v past the deadline; want a deadline error", name, v, err)
		}
		if took > 5*time.Second {
			t.Errorf("%s: stopped %v after a deadline of 100ms", name, took)
		}
	}
}
