package policy

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/regovm"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Evaluators of a policy revision.
const (
	// EvaluatorIR interprets OPA's plan of the policy (internal/regovm):
	// the default, ~6× faster than topdown on the default policy.
	EvaluatorIR = "ir"
	// EvaluatorTopdown is OPA's own evaluator.
	EvaluatorTopdown = "topdown"
)

// WithEvaluator chooses how decisions are evaluated: EvaluatorIR (the
// default) or EvaluatorTopdown. With EvaluatorIR, a revision the
// interpreter cannot run, or whose answers differ from topdown's on the
// tree's own case inputs when it is loaded, is evaluated by topdown; Status
// says which evaluator serves and why.
func WithEvaluator(name string) Option { return func(e *Engine) { e.evaluator = name } }

// DefaultDecisionBudget is how long one decision's evaluation may run
// (WithDecisionBudget): the default policy takes tens of microseconds.
const DefaultDecisionBudget = time.Second

// WithDecisionBudget bounds each decision's evaluation (its fixed verdicts
// and the decision itself) to d, as well as by the caller's context: a
// policy that loops or builds huge collections then costs at most d of a
// core per decision, and its decisions fail (callers withhold the item)
// instead of arriving long after their request has timed out. The default
// is DefaultDecisionBudget; d <= 0 leaves only the caller's context.
func WithDecisionBudget(d time.Duration) Option {
	return func(e *Engine) {
		e.budget = d
		if d <= 0 {
			e.budget = -1
		}
	}
}

// bounded is ctx bounded by the decision budget, and what releases it. A
// context whose own deadline is nearer is kept as it is.
//
// The budget is a deadline without a timer (budgetCtx): the interpreter
// reads the clock against its context's deadline as it polls the context
// (regovm), and topdownValue gives topdown a timer of its own. A timer per
// decision (context.WithTimeout) would cost 4 allocations and ~0.5 µs of
// an ordinary decision's ~15.
func (e *Engine) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	b := e.budget
	if b == 0 {
		b = DefaultDecisionBudget
	}
	if b < 0 {
		return ctx, noStop
	}
	dl := time.Now().Add(b)
	if cur, ok := ctx.Deadline(); ok && !cur.After(dl) {
		return ctx, noStop
	}
	return &budgetCtx{Context: ctx, deadline: dl}, noStop
}

func noStop() {}

// budgetCtx is its parent with a nearer deadline that only Deadline
// reports: Done and Err are the parent's. Whoever evaluates under it reads
// the deadline (regovm does, topdownValue makes a timer of it).
type budgetCtx struct {
	context.Context
	deadline time.Time
}

func (c *budgetCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// vmQueryVar is the variable the interpreter's queries bind.
const vmQueryVar = "ds4p_result"

// vmPrograms are a revision's queries prepared for the interpreter.
type vmPrograms struct {
	decision *regovm.Program
	fixed    *regovm.Program // nil when the revision shares no fixed verdicts
}

var vmOptions = regovm.Options{StrictBuiltinErrors: true}

// crossChecked remembers the revisions (and queries) whose cross-check
// passed in this process: the check depends on nothing else, and it costs
// ~0.7 s of topdown evaluations, once per revision rather than per engine.
var crossChecked sync.Map

// prepareVM plans the decision query (and the fixed verdicts query when c
// has one) for the interpreter and checks it against topdown on the case
// inputs of fsys, unless revision rev passed that check before. It returns
// nil and why when topdown must serve.
func prepareVM(ctx context.Context, fsys fs.FS, rev string, c *compiled, query string) (*vmPrograms, string) {
	dec, err := regovm.Compile(ctx, vmQueryVar+" := "+query, vmQueryVar, c.modules, c.data)
	if err != nil {
		return nil, err.Error()
	}
	vm := &vmPrograms{decision: dec}
	if c.fixed != nil {
		if vm.fixed, err = regovm.Compile(ctx, vmQueryVar+" := "+fixedQuery, vmQueryVar, c.modules, c.data); err != nil {
			return nil, err.Error()
		}
	}
	key := rev + "\x00" + query + "\x00" + strconv.FormatBool(vm.fixed != nil)
	if _, ok := crossChecked.Load(key); ok && rev != "" {
		return vm, ""
	}
	if why := vm.crossCheck(ctx, fsys, c); why != "" {
		return nil, why
	}
	crossChecked.Store(key, true)
	return vm, ""
}

// crossCheck evaluates every case input of the tree (cases/*.yaml), in
// full and brief form and brief with its fixed verdicts, with both
// evaluators, and returns the first difference.
func (vm *vmPrograms) crossCheck(ctx context.Context, fsys fs.FS, c *compiled) string {
	memo := newInputMemo()
	why := ""
	err := eachCase(fsys, true, func(tc Case, cs *consentSet) bool {
		var fixed *ast.Term
		if vm.fixed != nil {
			ctxVal := tc.Input.contextValue(cs.value, memo)
			want, err := topdownValue(ctx, *c.fixed, ctxVal)
			got, gerr := vm.fixed.Eval(ctx, ctxVal, vmOptions)
			if d := differ(want, err, got, gerr); d != "" {
				why = fmt.Sprintf("the interpreter's fixed verdicts differ from topdown's for case %q: %s", tc.Name, d)
				return false
			}
			if got != nil {
				fixed = ast.NewTerm(got)
			}
		}
		for _, val := range decisionForms(tc.Input, cs, memo, fixed) {
			want, err := topdownValue(ctx, c.pq, val)
			got, gerr := vm.decision.Eval(ctx, val, vmOptions)
			if d := differ(want, err, got, gerr); d != "" {
				why = fmt.Sprintf("the interpreter's decision differs from topdown's for case %q: %s", tc.Name, d)
				return false
			}
		}
		return true
	})
	if err != nil {
		return "" // the tree's cases are checked (and reported) elsewhere
	}
	return why
}

func topdownValue(ctx context.Context, pq rego.PreparedEvalQuery, input ast.Value) (ast.Value, error) {
	if dl, ok := ctx.Deadline(); ok { // a budget's deadline has no timer (bounded)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input), rego.EvalMetrics(metrics.NoOp()))
	if cerr := ctx.Err(); err == nil && cerr != nil {
		// topdown notices the end of ctx through a goroutine, which an
		// evaluation already under way may finish before: no answer.
		return nil, fmt.Errorf("policy: evaluation stopped: %w", cerr)
	}
	if err != nil || len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, err
	}
	v, _ := rs[0].Expressions[0].Value.(ast.Value)
	return v, nil
}

// differ describes how two evaluations differ, or returns "".
func differ(want ast.Value, werr error, got ast.Value, gerr error) string {
	switch {
	case (werr != nil) != (gerr != nil):
		return fmt.Sprintf("topdown error %v, interpreter error %v", werr, gerr)
	case werr != nil:
		return ""
	case (want == nil) != (got == nil):
		return fmt.Sprintf("topdown %v, interpreter %v", want, got)
	case want != nil && ast.Compare(want, got) != 0:
		return fmt.Sprintf("topdown %v, interpreter %v", want, got)
	}
	return ""
}
