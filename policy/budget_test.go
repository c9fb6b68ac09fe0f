package policy

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// slowPolicies decide permit after seconds to tens of seconds of work:
// one in its loops (10^8 elements scanned), one in a built-in
// (numbers.range building a 2*10^7 element array).
var slowPolicies = map[string]string{
	"loops": `package ds4p

xs := numbers.range(1, 10000)

decision := {"effect": "permit", "reasons": []} if {
	count([1 | some a in xs; some b in xs; a == b]) > 0
}
`,
	"builtin": `package ds4p

decision := {"effect": "permit", "reasons": []} if {
	count(numbers.range(1, 20000000)) > 0
}
`,
}

func slowEngine(t *testing.T, src, evaluator string, opts ...Option) *Engine {
	t.Helper()
	fsys := fstest.MapFS{"ds4p/main.rego": &fstest.MapFile{Data: []byte(src)}}
	eng, err := New(context.Background(), fsys, append([]Option{WithEvaluator(evaluator), WithDecisionCache(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if s := eng.Status().Evaluator; !strings.HasPrefix(s, evaluator) {
		t.Fatalf("evaluator %q, want %q", s, evaluator)
	}
	return eng
}

var slowInput = Input{Caller: Caller{Purposes: []string{"TREAT"}}, Item: Item{Type: "Observation"}}

// decideWithin decides slowInput and fails the test when that takes longer
// than limit (it then leaves the evaluation running): a correctness bound,
// not a performance one, as the machine is shared.
func decideWithin(t *testing.T, ctx context.Context, eng *Engine, what string, limit time.Duration) {
	t.Helper()
	type result struct {
		d   Decision
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		d, err := eng.Decide(ctx, slowInput)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		t.Logf("%s: %q, %v after %v", what, r.d.Effect, r.err, time.Since(start))
		if r.err == nil || r.d.Effect != "" {
			t.Errorf("%s: decided %q (error %v): an evaluation past its deadline must fail", what, r.d.Effect, r.err)
		}
	case <-time.After(limit):
		t.Errorf("%s: still evaluating after %v", what, limit)
	}
}

// A slow decision stops soon after the caller's deadline, with an error
// (the proxy withholds), under either evaluator (QA M4: the interpreter ran
// 23 s past a 100 ms deadline and permitted).
func TestSlowDecisionStopsAtDeadline(t *testing.T) {
	for name, src := range slowPolicies {
		for _, ev := range []string{EvaluatorIR, EvaluatorTopdown} {
			eng := slowEngine(t, src, ev)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			decideWithin(t, ctx, eng, name+" "+ev+", 100 ms deadline", 5*time.Second)
			cancel()
		}
	}
}

// Without a deadline of the caller's, a decision is bounded by the
// engine's budget: DefaultDecisionBudget, or WithDecisionBudget's.
func TestDecisionBudget(t *testing.T) {
	for name, src := range slowPolicies {
		eng := slowEngine(t, src, EvaluatorIR)
		decideWithin(t, context.Background(), eng, name+", default budget", DefaultDecisionBudget+5*time.Second)
		eng = slowEngine(t, src, EvaluatorIR, WithDecisionBudget(100*time.Millisecond))
		decideWithin(t, context.Background(), eng, name+", 100 ms budget", 5*time.Second)
	}
	// The budget bounds topdown's evaluations too.
	eng := slowEngine(t, slowPolicies["loops"], EvaluatorTopdown, WithDecisionBudget(100*time.Millisecond))
	decideWithin(t, context.Background(), eng, "loops topdown, 100 ms budget", 5*time.Second)
}

// The budget does not cut short an ordinary decision, nor does a caller's
// nearer deadline need a timer of its own (bounded keeps its context).
func TestDecisionBudgetKeepsOrdinaryDecisions(t *testing.T) {
	e := &Engine{budget: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if got, stop := e.bounded(ctx); got != ctx {
		t.Error("a context with a nearer deadline was bounded again")
	} else {
		stop()
	}
	off := &Engine{}
	WithDecisionBudget(0)(off)
	if got, stop := off.bounded(context.Background()); got != context.Background() {
		t.Error("WithDecisionBudget(0) still bounds decisions")
	} else {
		stop()
	}
	eng := slowEngine(t, `package ds4p

decision := {"effect": "permit", "reasons": []} if count(numbers.range(1, 100)) == 100
`, EvaluatorIR, WithDecisionBudget(time.Second))
	for range 100 {
		if d, err := eng.Decide(context.Background(), slowInput); err != nil || d.Effect != Permit {
			t.Fatalf("decided %q, %v; want permit", d.Effect, err)
		}
	}
}
