// Package regovm evaluates Rego by interpreting OPA's intermediate
// representation (the plan OPA's planner makes for its Wasm compiler)
// instead of with OPA's evaluator (topdown).
//
// The planner turns each rule into a function of straight-line statements
// over local variables, with the rule's data references resolved at plan
// time. Interpreting a statement costs tens of nanoseconds where topdown's
// unification, rule indexing and virtual-document caching cost several
// microseconds per rule: the default ds4p policy decides an ordinary item
// (~260 statements) in 15-20 µs here against ~140 µs in topdown, and a Part
// 2 item with consent (~1,100) in ~60 µs against ~470 µs
// (BenchmarkEvaluator in package policy).
//
// Each block of the plan is compiled once, when the Program is made, into
// instructions of one shape with integer operands (code.go), which the
// interpreter dispatches on a small opcode.
//
// The semantics are those of OPA's Wasm target, which the planner was
// written for; statement by statement they follow
// internal/compiler/wasm in OPA's source (the comments below say where
// that matters). Built-in functions are OPA's own (topdown.GetBuiltin), so
// they behave exactly as under topdown. What the interpreter does not
// support (with statements, dynamic calls, relations, built-ins OPA's
// evaluator lacks) makes Compile fail: the caller then keeps OPA's
// evaluator. Package policy checks the two evaluators against each other
// at load time and in its tests.
//
// An evaluation ends soon after its context does, or its context's
// deadline passes, with an error (CancelError), never an answer: it looks
// at both every 64 calls of planned functions and elements scanned, after
// a built-in fails, and before it answers, and built-ins that poll their
// BuiltinContext.Cancel (numbers.range, regex.replace, ...) see it too.
// The deadline is read from the clock, so a context may carry one without
// a timer (as package policy's per-decision budget does).
package regovm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Program is one planned query, ready to evaluate concurrently.
type Program struct {
	plan      *ir.Plan
	code      []code // the plan's blocks, compiled
	funcs     []*function
	byName    map[string]int
	strs      []*ast.Term
	nums      []*ast.Term // MakeNumberRefStmt constants, by string index
	consts    []*ast.Term // operand constants (opnd): strs, true, false, nil
	calls     map[*ir.CallStmt]callee
	data      *ast.Term
	result    *ast.Term // the query variable holding the answer
	nlocals   int       // locals of the plan's own frame
	stackHint int       // the most locals a chain of calls can hold at once
	states    sync.Pool // of *state: evaluations reuse their stack and memo
	usesTime  bool      // the program calls a built-in that reads the evaluation time
	dataFixed bool      // local ir.Data holds the policy data in every frame (dataIsFixed)
}

type function struct {
	f       *ir.Func
	code    []code  // f's blocks, compiled
	params  []int32 // f's parameters' locals
	nlocals int
	memo    bool // a rule (params input and data only): evaluated once per evaluation
	// constant, when set, is the rule's value for the life of the program: a
	// rule that reads no input worked out once, when the program was
	// compiled (constant.go). Shared read-only by every evaluation.
	constant *memoEntry
}

// callee is what a CallStmt calls: a planned function or a built-in.
type callee struct {
	fn      int // index into Program.funcs, or -1
	builtin topdown.BuiltinFunc
	name    string
	noOut   bool  // a built-in without a result (its success is the answer)
	cmp     cmpOp // a comparison built-in (watch.go)
	nondet  bool  // a built-in whose answer does not follow from its arguments alone
}

// timeBuiltins read BuiltinContext.Time, the evaluation's time.
var timeBuiltins = map[string]bool{ast.NowNanos.Name: true, ast.JWTDecodeVerify.Name: true, ast.HTTPSend.Name: true}

// clockBuiltins read the clock itself, though OPA does not mark them
// nondeterministic: a certificate chain is verified at the time of the
// call (x509.VerifyOptions.CurrentTime zero is now; the with_options form
// when no CurrentTime is given). Their answer does not follow from their
// arguments, so no rule calling them is worked out once (constant.go) and
// a watch is lost on them (watch.go).
var clockBuiltins = map[string]bool{
	ast.CryptoX509ParseAndVerifyCertificates.Name:            true,
	ast.CryptoX509ParseAndVerifyCertificatesWithOptions.Name: true,
}

// ErrUnsupported wraps why a plan cannot be interpreted.
var ErrUnsupported = errors.New("regovm: unsupported")

// Compile plans query (which must bind the variable resultVar, as in
// "x := data.pkg.rule") over the compiled modules and prepares it. data is
// the base document tree (policy data), as an AST value.
func Compile(ctx context.Context, query, resultVar string, modules map[string]*ast.Module, data ast.Value) (*Program, error) {
	policy, err := plan(ctx, query, modules)
	if err != nil {
		return nil, err
	}
	prog, err := newProgram(policy, resultVar, data)
	if err != nil {
		return nil, err
	}
	prog.constants(ctx)
	return prog, nil
}

// planKey carries a capture slot through rego's PrepareForEval to the
// target plugin below: the only public way to obtain the planner's IR.
type planKey struct{}

type capture struct{ policy *ir.Policy }

const targetName = "ds4p-regovm-plan"

// The plugin is registered when the package initialises: OPA reads its
// registry of target plugins without a lock in every rego.New, so a
// registration made later, while another goroutine prepares a query,
// is a data race (it was, when this was done lazily on the first Compile).
func init() { rego.RegisterPlugin(targetName, planTarget{}) }

type planTarget struct{}

func (planTarget) IsTarget(t string) bool { return t == targetName }

func (planTarget) PrepareForEval(ctx context.Context, p *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	c, ok := ctx.Value(planKey{}).(*capture)
	if !ok {
		return nil, errors.New("regovm: plan target used outside Compile")
	}
	c.policy = p
	return refuse{}, nil
}

// refuse is the evaluator the plugin hands rego: Compile never evaluates
// through rego, so this only guards against misuse.
type refuse struct{}

func (refuse) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("regovm: evaluate with Program.Eval")
}

func plan(ctx context.Context, query string, modules map[string]*ast.Module) (*ir.Policy, error) {
	c := &capture{}
	opts := []func(*rego.Rego){
		rego.Query(query),
		rego.Target(targetName),
		rego.SetRegoVersion(ast.RegoV1),
	}
	for _, m := range modules {
		opts = append(opts, rego.ParsedModule(m))
	}
	if _, err := rego.New(opts...).PrepareForEval(context.WithValue(ctx, planKey{}, c)); err != nil {
		return nil, fmt.Errorf("regovm: planning: %w", err)
	}
	if c.policy == nil {
		return nil, errors.New("regovm: planning produced no plan")
	}
	return c.policy, nil
}

func newProgram(p *ir.Policy, resultVar string, data ast.Value) (*Program, error) {
	if p.Plans == nil || len(p.Plans.Plans) != 1 {
		return nil, fmt.Errorf("%w: expected one plan", ErrUnsupported)
	}
	if len(p.UnplannedRules) > 0 {
		return nil, fmt.Errorf("%w: rule %s could not be planned", ErrUnsupported, p.UnplannedRules[0].Path)
	}
	prog := &Program{
		plan: p.Plans.Plans[0], byName: map[string]int{}, calls: map[*ir.CallStmt]callee{},
		data: ast.NewTerm(data), result: ast.StringTerm(resultVar),
	}
	if p.Static != nil {
		prog.strs = make([]*ast.Term, len(p.Static.Strings))
		prog.nums = make([]*ast.Term, len(p.Static.Strings))
		for i, s := range p.Static.Strings {
			prog.strs[i] = ast.StringTerm(s.Value)
			prog.nums[i] = ast.NewTerm(ast.Number(s.Value))
		}
	}
	noOut := map[string]bool{}
	if p.Static != nil {
		for _, b := range p.Static.BuiltinFuncs {
			if b.Decl != nil && b.Decl.Result() == nil {
				noOut[b.Name] = true
			}
		}
	}
	if p.Funcs != nil {
		for i, f := range p.Funcs.Funcs {
			prog.byName[f.Name] = i
			prog.funcs = append(prog.funcs, &function{f: f, memo: len(f.Params) == 2})
		}
	}
	var bad error
	visit := func(maxLocal *int) func(ir.Stmt) {
		return func(x ir.Stmt) {
			if bad != nil {
				return
			}
			if !supported(x) {
				bad = fmt.Errorf("%w: statement %T", ErrUnsupported, x)
				return
			}
			locals(x, func(l ir.Local) { *maxLocal = max(*maxLocal, int(l)) })
			switch s := x.(type) {
			case *ir.WithStmt:
				bad = fmt.Errorf("%w: with statements", ErrUnsupported)
			case *ir.CallDynamicStmt:
				bad = fmt.Errorf("%w: dynamic calls", ErrUnsupported)
			case *ir.CallStmt:
				if i, ok := prog.byName[s.Func]; ok {
					prog.calls[s] = callee{fn: i, name: s.Func}
					return
				}
				bi := topdown.GetBuiltin(s.Func)
				decl, known := ast.BuiltinMap[s.Func]
				if bi == nil || !known {
					bad = fmt.Errorf("%w: built-in %s", ErrUnsupported, s.Func)
					return
				}
				if decl.Relation {
					bad = fmt.Errorf("%w: relation %s", ErrUnsupported, s.Func)
					return
				}
				prog.calls[s] = callee{fn: -1, builtin: bi, name: s.Func, noOut: noOut[s.Func],
					cmp: comparisons[s.Func], nondet: decl.Nondeterministic || timeBuiltins[s.Func] || clockBuiltins[s.Func]}
				prog.usesTime = prog.usesTime || timeBuiltins[s.Func]
			}
		}
	}
	var n int
	for _, b := range prog.plan.Blocks {
		walk(b, visit(&n))
	}
	prog.nlocals = n + 1
	for _, fn := range prog.funcs {
		n = int(fn.f.Return)
		for _, l := range fn.f.Params {
			n = max(n, int(l))
		}
		for _, b := range fn.f.Blocks {
			walk(b, visit(&n))
		}
		fn.nlocals = n + 1
	}
	if bad != nil {
		return nil, bad
	}
	prog.consts = append(append([]*ast.Term{}, prog.strs...),
		ast.InternedTerm(true), ast.InternedTerm(false), nil)
	prog.dataFixed = dataIsFixed(prog)
	c := &compiler{p: prog, nstr: len(prog.strs), dataFixed: prog.dataFixed}
	prog.code = c.blocks(prog.plan.Blocks, c.info(prog.plan.Blocks))
	for _, fn := range prog.funcs {
		fn.code = c.blocks(fn.f.Blocks, c.info(fn.f.Blocks))
		for _, l := range fn.f.Params {
			fn.params = append(fn.params, int32(l))
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	need := make([]int, len(prog.funcs)) // 0: not computed yet
	for _, b := range prog.plan.Blocks {
		prog.stackHint = max(prog.stackHint, prog.callNeed(b, need))
	}
	return prog, nil
}

// supported reports whether stmt can run here. A statement type a later
// OPA adds is refused at compile time rather than failing evaluations.
func supported(st ir.Stmt) bool {
	switch st.(type) {
	case *ir.AssignVarStmt, *ir.AssignVarOnceStmt, *ir.DotStmt, *ir.EqualStmt, *ir.NotEqualStmt,
		*ir.CallStmt, *ir.BlockStmt, *ir.BreakStmt, *ir.ScanStmt, *ir.NotStmt, *ir.IsDefinedStmt,
		*ir.IsUndefinedStmt, *ir.ResetLocalStmt, *ir.MakeNullStmt, *ir.MakeNumberIntStmt,
		*ir.MakeNumberRefStmt, *ir.AssignIntStmt, *ir.MakeArrayStmt, *ir.MakeObjectStmt, *ir.MakeSetStmt,
		*ir.IsArrayStmt, *ir.IsObjectStmt, *ir.IsSetStmt, *ir.LenStmt, *ir.ArrayAppendStmt,
		*ir.ObjectInsertStmt, *ir.ObjectInsertOnceStmt, *ir.ObjectMergeStmt, *ir.SetAddStmt,
		*ir.ResultSetAddStmt, *ir.ReturnLocalStmt, *ir.NopStmt,
		*ir.WithStmt, *ir.CallDynamicStmt: // refused below, with a clearer reason
		return true
	}
	return false
}

// callNeed is the most stack a call made in b needs: the callee's locals
// and what its own calls need. Rego has no recursion, so this ends.
func (p *Program) callNeed(b *ir.Block, need []int) int {
	most := 0
	walk(b, func(x ir.Stmt) {
		c, ok := x.(*ir.CallStmt)
		if !ok || p.calls[c].fn < 0 {
			return
		}
		i := p.calls[c].fn
		if need[i] == 0 {
			fn := p.funcs[i]
			inner := 0
			for _, fb := range fn.f.Blocks {
				inner = max(inner, p.callNeed(fb, need))
			}
			need[i] = fn.nlocals + inner
		}
		most = max(most, need[i])
	})
	return most
}

// walk calls f with every statement of b, depth first.
func walk(b *ir.Block, f func(ir.Stmt)) {
	for _, st := range b.Stmts {
		f(st)
		switch x := st.(type) {
		case *ir.BlockStmt:
			for _, sb := range x.Blocks {
				walk(sb, f)
			}
		case *ir.ScanStmt:
			walk(x.Block, f)
		case *ir.NotStmt:
			walk(x.Block, f)
		}
	}
}

// locals calls f with every local a statement names, in whichever of its
// fields (a Local, an Operand, a list of either).
func locals(st ir.Stmt, f func(ir.Local)) {
	v := reflect.ValueOf(st).Elem()
	for i := range v.NumField() {
		switch x := v.Field(i).Interface().(type) {
		case ir.Local:
			f(x)
		case ir.Operand:
			if l, ok := x.Value.(ir.Local); ok {
				f(l)
			}
		case []ir.Operand:
			for _, o := range x {
				if l, ok := o.Value.(ir.Local); ok {
					f(l)
				}
			}
		case []ir.Local:
			for _, l := range x {
				f(l)
			}
		}
	}
}

// Control signals of a block's execution. A value >= 0 is a break that
// still has that many enclosing blocks to leave (0: the parent block).
const (
	sigDone   = -2 // the block ran to its end
	sigExited = -1 // a statement failed, or break 0: the block was left
	sigReturn = -3 // a ReturnLocalStmt: leave the function
)

// Options are per-evaluation settings.
type Options struct {
	// Time is the evaluation time built-ins see (time.now_ns); zero is now.
	Time time.Time
	// StrictBuiltinErrors makes a built-in's error fail the evaluation;
	// otherwise the call is undefined, as in OPA.
	StrictBuiltinErrors bool
	// Watch, when set, follows one integer of the input through the
	// evaluation and reports for which of its values the evaluation would
	// go exactly the same way (watch.go).
	Watch *Watch
	// Stats, when set, has the evaluation's counts added to it.
	Stats *Stats
}

// Stats are counts of evaluations, for reports of what a policy costs
// (`ds4p policy check`). Unlike a time, they are the same on every machine
// and in every run.
type Stats struct {
	// Calls is how many times the evaluations called a rule or function
	// of the policy, not counting a rule whose value the evaluation had
	// already worked out, nor one that reads no input, which the program
	// worked out when it was compiled (constant.go).
	Calls int
	// Instructions is how many instructions the evaluations ran (each
	// statement of OPA's plan is one, code.go), in every function called
	// and every element of a scan: the cost figure that follows what an
	// evaluation does, where Calls counts rules of any size alike.
	Instructions int
}

// memoEntry is a rule's value within one evaluation.
type memoEntry struct {
	v     *ast.Term // nil: undefined
	known bool
}

// state is one evaluation. Locals are terms, so that values taken from
// objects, arrays and sets, and handed to them and to built-ins, need no
// wrapping.
type state struct {
	p       *Program
	ctx     context.Context
	opts    *Options
	memo    []memoEntry            // per function: its memoised value, for rules
	stack   []*ast.Term            // the frames of the functions being called
	bctx    topdown.BuiltinContext // for built-ins; ready while bctxOK
	bctxOK  bool
	args    []*ast.Term               // a built-in call's arguments
	onOut   func(*ast.Term) error     // builtinOut, bound once
	onElem  func(k, v *ast.Term) bool // scanElem, bound once
	cur     scanCur                   // the object scan under way
	out     *ast.Term                 // a built-in's result
	nout    int                       // how many results it gave
	calls   int                       // planned functions called
	instrs  int                       // instructions run (Stats.Instructions)
	steps   uint32                    // calls and scanned elements, for polling ctx
	cancel  ctxCancel                 // bctx.Cancel: ctx, as built-ins poll it
	result  *ast.Term                 // the query's result (a result set of one)
	results int                       // distinct results added
	err     error
	w       *Watch // Options.Watch, ready (watch.go)
}

// Eval evaluates the query with input (nil: no input) and returns the
// value bound to the result variable, or nil when the query is undefined.
// A query with several results is an error.
func (p *Program) Eval(ctx context.Context, input ast.Value, opts Options) (v ast.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("regovm: evaluation panicked: %v", r)
		}
	}()
	s := p.newState()
	s.ctx, s.opts = ctx, &opts
	s.cancel.ctx = ctx
	s.cancel.deadline, s.cancel.hasDeadline = ctx.Deadline()
	defer s.release()
	if opts.Stats != nil {
		defer func() { // before release clears them
			opts.Stats.Calls += s.calls
			opts.Stats.Instructions += s.instrs
		}()
	}
	s.stack = append(s.stack, make([]*ast.Term, p.nlocals)...)
	frame := s.stack[:p.nlocals:p.nlocals]
	if input != nil {
		frame[ir.Input] = ast.NewTerm(input)
	}
	if opts.Watch != nil {
		s.w = opts.Watch
		s.w.start(frame[ir.Input])
	}
	frame[ir.Data] = p.data
	for _, b := range p.code {
		r := s.block(frame, b)
		if s.err != nil {
			return nil, s.err
		}
		if r == sigReturn || r >= 0 {
			break
		}
	}
	// An evaluation whose context ended gives no answer, however far it
	// got: the caller has gone, or the answer is past its deadline.
	if err := s.cancel.ended(); err != nil {
		return nil, &CancelError{Cause: err}
	}
	if s.result == nil {
		return nil, nil
	}
	if s.results > 1 {
		return nil, fmt.Errorf("regovm: the query has %d results", s.results)
	}
	var out ast.Value
	if obj, ok := s.result.Value.(ast.Object); ok {
		if x := obj.Get(p.result); x != nil {
			out = x.Value
		}
	}
	if out == nil {
		return nil, errors.New("regovm: the result does not bind the query variable")
	}
	return out, nil
}

// newState is an evaluation's state, from the pool or new.
func (p *Program) newState() *state {
	s, _ := p.states.Get().(*state)
	if s == nil {
		s = &state{p: p, memo: make([]memoEntry, len(p.funcs)), stack: make([]*ast.Term, 0, p.stackHint+p.nlocals)}
		s.onOut, s.onElem = s.builtinOut, s.scanElem
	}
	return s
}

// release clears s and gives it back to its program's pool.
func (s *state) release() {
	clear(s.stack[:cap(s.stack)])
	s.stack = s.stack[:0]
	clear(s.memo)
	clear(s.args[:cap(s.args)])
	s.args = s.args[:0]
	if s.bctxOK {
		clear(s.bctx.Cache)
		s.bctx.Context, s.bctx.Time, s.bctxOK = nil, nil, false
	}
	s.cancel = ctxCancel{}
	s.cur = scanCur{}
	s.ctx, s.opts, s.out, s.result, s.results, s.err, s.calls, s.instrs, s.steps, s.w = nil, nil, nil, nil, 0, nil, 0, 0, 0, nil
	s.p.states.Put(s)
}

// pollEvery is how many steps (calls of planned functions, elements
// scanned, polls of a built-in) an evaluation takes between looks at its
// context and the clock: a look costs tens of nanoseconds, a step tens to
// hundreds, so an evaluation notices the end of its context within
// microseconds of work, at no measurable cost.
const pollEvery = 64

// step counts one call or scanned element and, every pollEvery of them,
// fails the evaluation if its context has ended (sigReturn); otherwise it
// returns sigDone.
func (s *state) step() int {
	if s.steps++; s.steps%pollEvery != 1 {
		return sigDone
	}
	if err := s.cancel.ended(); err != nil {
		return s.fail(&CancelError{Cause: err})
	}
	return sigDone
}

// CancelError is the error of an evaluation stopped because its context
// ended. It matches the context's error (errors.Is(err,
// context.DeadlineExceeded)) and, as topdown's does, topdown.IsCancel.
type CancelError struct{ Cause error }

func (e *CancelError) Error() string { return "regovm: evaluation stopped: " + e.Cause.Error() }

func (e *CancelError) Unwrap() []error { return []error{e.Cause, errTopdownCancel} }

var errTopdownCancel = &topdown.Error{Code: topdown.CancelErr, Message: "caller cancelled query execution"}

// ctxCancel says whether an evaluation must stop: its context has ended
// or its deadline has passed. It is also the topdown.Cancel built-ins poll
// (numbers.range, regex.replace, net.cidr_expand, ...). Asking the context
// and the clock, rather than a flag that an AfterFunc on the context or a
// timer would set, costs nothing per evaluation: no registration with the
// context, no timer, no goroutine, nothing to stop.
type ctxCancel struct {
	ctx         context.Context
	deadline    time.Time
	hasDeadline bool
	polls       uint32 // Cancelled's, to read the clock now and then
	flag        atomic.Bool
}

// ended is why the evaluation must stop, or nil.
func (c *ctxCancel) ended() error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if c.hasDeadline && !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *ctxCancel) Cancel() { c.flag.Store(true) }

// Cancelled is called by a built-in once per element it makes, in the
// evaluation's goroutine: it reads the clock every pollEvery calls only.
func (c *ctxCancel) Cancelled() bool {
	if c.flag.Load() {
		return true
	}
	if c.polls++; c.polls%pollEvery != 1 {
		return c.ctx.Err() != nil
	}
	return c.ended() != nil
}

func (s *state) fail(err error) int {
	if s.err == nil {
		s.err = err
	}
	return sigReturn
}

func (s *state) operand(frame []*ast.Term, o opnd) *ast.Term {
	if o >= 0 {
		return frame[o]
	}
	return s.p.consts[^o]
}

// block runs b and returns a control signal for its parent. It counts the
// instructions it ran when it leaves (Stats.Instructions), not one by one.
func (s *state) block(frame []*ast.Term, b code) int {
	for i := range b {
		r := s.stmt(frame, &b[i])
		if r == sigDone {
			continue
		}
		s.instrs += i + 1
		switch {
		case r == sigExited:
			return sigExited
		case r == sigReturn:
			return sigReturn
		case r == 0:
			return sigExited
		default:
			return r - 1
		}
	}
	s.instrs += len(b)
	return sigDone
}

// intTerm is an integer constant's term.
func intTerm(n int64) *ast.Term {
	if n >= -1 && n <= 512 {
		return ast.InternedTerm(int(n)) // OPA keeps these
	}
	return ast.NewTerm(ast.Number(strconv.FormatInt(n, 10)))
}

// stmt runs one statement: sigDone to go on; sigExited when it fails
// (break 0: leave the block); n >= 0 to break out of n+1 blocks counting
// the current one; sigReturn to leave the function. Each case is the
// statement of ir the instruction was compiled from (code.go).
func (s *state) stmt(frame []*ast.Term, x *instr) int {
	switch x.op {
	case opAssignVar:
		frame[x.target] = s.operand(frame, x.a)
	case opAssignVarOnce:
		v := s.operand(frame, x.a)
		if cur := frame[x.target]; cur != nil {
			if s.w != nil && (s.w.holds(v) || s.w.holds(cur)) {
				s.w.lose("compared as a rule's value")
			}
			if v == nil || ast.Compare(cur.Value, v.Value) != 0 {
				return s.fail(&topdown.Error{Code: topdown.ConflictErr, Message: "complete rules must not produce multiple outputs"})
			}
			return sigDone
		}
		frame[x.target] = v
	case opDot:
		k := s.operand(frame, x.b)
		if s.w != nil && s.w.holds(k) {
			s.w.lose("used as a key")
		}
		v := dot(s.operand(frame, x.a), k)
		if v == nil {
			return sigExited
		}
		frame[x.target] = v
	case opEqual:
		a, b := s.operand(frame, x.a), s.operand(frame, x.b)
		if s.w != nil {
			s.w.equality(a, b)
		}
		if a == nil || b == nil || (a != b && ast.Compare(a.Value, b.Value) != 0) {
			return sigExited
		}
	case opNotEqual:
		a, b := s.operand(frame, x.a), s.operand(frame, x.b)
		if s.w != nil {
			s.w.equality(a, b)
		}
		if a == nil || b == nil || a == b || ast.Compare(a.Value, b.Value) == 0 {
			return sigExited
		}
	case opCallFunc:
		v, err := s.callFunc(frame, x.call.callee.fn, x.call.args)
		if err != nil {
			return s.fail(err)
		}
		if v == nil {
			return sigExited
		}
		frame[x.target] = v
	case opCallBuiltin:
		return s.callBuiltin(frame, x)
	case opBlock:
		for _, b := range x.blocks {
			switch r := s.block(frame, b); {
			case r == sigReturn:
				return sigReturn
			case r >= 0:
				return r
			}
		}
	case opBreak:
		if x.n == 0 {
			return sigExited
		}
		return x.n
	case opScan:
		return s.scan(frame, x)
	case opNot:
		// Wasm: block { body; cond = 0 }; fail if cond == 0. A body that
		// runs to its end makes the not fail; one left early makes it hold.
		switch r := s.block(frame, x.blocks[0]); {
		case r == sigDone:
			return sigExited
		case r == sigExited:
		case r == sigReturn:
			return sigReturn
		default: // a break beyond the not, relative to its own block
			return r
		}
	case opIsDefined:
		if frame[x.target] == nil {
			return sigExited
		}
	case opIsUndefined:
		if frame[x.target] != nil {
			return sigExited
		}
	case opResetLocal:
		frame[x.target] = nil
	case opConst:
		frame[x.target] = x.term
	case opMakeArray:
		// Room for the elements' hashes too: NewArray of an empty slice
		// would leave them none, and every append would grow them.
		frame[x.target] = ast.NewTerm(ast.NewArrayWithCapacity(x.n))
	case opMakeObject:
		frame[x.target] = ast.NewTerm(ast.NewObjectWithCapacity(x.n))
	case opMakeSet:
		frame[x.target] = ast.NewTerm(ast.NewSetWithCapacity(x.n))
	case opIsArray:
		if t := s.operand(frame, x.a); t == nil || !isArray(t.Value) {
			return sigExited
		}
	case opIsObject:
		if t := s.operand(frame, x.a); t == nil || !isObject(t.Value) {
			return sigExited
		}
	case opIsSet:
		if t := s.operand(frame, x.a); t == nil || !isSet(t.Value) {
			return sigExited
		}
	case opLen:
		frame[x.target] = intTerm(int64(length(s.operand(frame, x.a))))
	case opArrayAppend:
		arr, v := frame[x.target], s.operand(frame, x.a)
		if s.w != nil && s.w.holds(v) {
			s.w.lose("put in an array")
		}
		a, ok := termValue[*ast.Array](arr)
		if !ok || v == nil {
			return s.fail(errors.New("regovm: array append to a non-array"))
		}
		// A new term: the array value may change identity as it grows.
		frame[x.target] = ast.NewTerm(a.Append(v))
	case opObjectInsert:
		obj, k, v, ok := s.objectInsert(frame, x)
		if !ok {
			return s.fail(errObjectInsert)
		}
		obj.Insert(k, v)
	case opObjectInsertOnce:
		obj, k, v, ok := s.objectInsert(frame, x)
		if !ok {
			return s.fail(errObjectInsert)
		}
		if cur := obj.Get(k); cur != nil {
			if ast.Compare(cur.Value, v.Value) != 0 {
				return s.fail(&topdown.Error{Code: topdown.ConflictErr, Message: "object keys must be unique"})
			}
			return sigDone
		}
		obj.Insert(k, v)
	case opObjectMerge:
		a, b := frame[x.a], frame[x.n]
		if s.w != nil && (s.w.holder(a) || s.w.holder(b)) {
			s.w.lose("merged into an object")
		}
		frame[x.target] = merge(a, b)
	case opSetAdd:
		set, ok := termValue[ast.Set](frame[x.target])
		v := s.operand(frame, x.a)
		if s.w != nil && s.w.holds(v) {
			s.w.lose("put in a set")
		}
		if !ok || v == nil {
			return s.fail(errors.New("regovm: set add to a non-set"))
		}
		set.Add(v)
	case opResultSetAdd:
		// A set of results: the same one twice is one.
		if s.w != nil && s.w.holds(frame[x.target]) {
			s.w.lose("made part of the result")
		}
		if v := frame[x.target]; v != nil && (s.result == nil || ast.Compare(s.result.Value, v.Value) != 0) {
			s.result = v
			s.results++
		}
	case opReturn:
		return sigReturn
	case opDataDot:
		if frame[x.a] == nil {
			return sigExited // as dot(nil, key)
		}
		frame[x.target] = x.term
	case opNop:
	default:
		return s.fail(fmt.Errorf("%w: instruction %d", ErrUnsupported, x.op))
	}
	return sigDone
}

var errObjectInsert = errors.New("regovm: object insert into a non-object")

// objectInsert reads an object insert's operands; ok is false when the
// target is not an object or an operand is undefined.
func (s *state) objectInsert(frame []*ast.Term, x *instr) (obj ast.Object, k, v *ast.Term, ok bool) {
	obj, ok = termValue[ast.Object](frame[x.target])
	k, v = s.operand(frame, x.a), s.operand(frame, x.b)
	if s.w != nil && (s.w.holds(k) || s.w.holds(v)) {
		s.w.lose("put in an object")
	}
	return obj, k, v, ok && k != nil && v != nil
}

func termValue[T ast.Value](t *ast.Term) (T, bool) {
	var zero T
	if t == nil {
		return zero, false
	}
	v, ok := t.Value.(T)
	return v, ok
}

func isArray(v ast.Value) bool  { _, ok := v.(*ast.Array); return ok }
func isObject(v ast.Value) bool { _, ok := v.(ast.Object); return ok }
func isSet(v ast.Value) bool    { _, ok := v.(ast.Set); return ok }

// scan runs the body once per element. Wasm compiles it as
// block { loop { next or br 1; body; br 0 } }: inside the body, break 0
// goes on with the next element, break 1 leaves the scan, and break n > 1
// continues as break n-2 from the statement.
func (s *state) scan(frame []*ast.Term, x *instr) int {
	src := frame[x.target]
	if src == nil {
		return sigDone
	}
	switch c := src.Value.(type) {
	case *ast.Array:
		for i := 0; i < c.Len(); i++ {
			if r := s.scanOne(frame, x, ast.InternedTerm(i), c.Elem(i)); r != sigDone {
				return scanEnd(r)
			}
		}
	case ast.Object:
		// In key order, as Keys would give them, without copying the keys
		// or looking each one up again: Until hands each key with its
		// value to s.scanElem (bound once per state), which reads the
		// scan it belongs to from s.cur; a scan nested in the body saves
		// and restores it.
		outer := s.cur
		s.cur = scanCur{frame: frame, x: x, r: sigDone}
		c.Until(s.onElem)
		r := s.cur.r
		s.cur = outer
		if r != sigDone {
			return scanEnd(r)
		}
	case ast.Set:
		for _, t := range c.Slice() {
			if r := s.scanOne(frame, x, t, t); r != sigDone {
				return scanEnd(r)
			}
		}
	}
	return sigDone
}

// scanCur is the object scan under way: its frame and instruction, and
// the signal that stopped it (sigDone while it goes on).
type scanCur struct {
	frame []*ast.Term
	x     *instr
	r     int
}

// scanElem runs the body of the current object scan for one member, and
// stops the scan (true) when the body's signal says so.
func (s *state) scanElem(k, v *ast.Term) bool {
	c := &s.cur
	if r := s.scanOne(c.frame, c.x, k, v); r != sigDone {
		s.cur.r = r
		return true
	}
	return false
}

// scanOne runs the body for one element: sigDone to go on with the next.
func (s *state) scanOne(frame []*ast.Term, x *instr, k, v *ast.Term) int {
	if r := s.step(); r != sigDone {
		return r
	}
	frame[x.a], frame[x.b] = k, v
	switch r := s.block(frame, x.blocks[0]); r {
	case sigDone, sigExited: // break 0: the next element
		return sigDone
	default:
		return r
	}
}

// scanEnd turns a body's signal that stopped the scan into the scan
// statement's: break 1 (0 from the body) leaves the scan; break r+1,
// r-1 relative to the scan's own block.
func scanEnd(r int) int {
	switch {
	case r == sigReturn:
		return sigReturn
	case r == 0:
		return sigDone
	default:
		return r - 1
	}
}

func (s *state) callBuiltin(frame []*ast.Term, x *instr) int {
	c := &x.call.callee
	args := s.args[:0]
	for _, a := range x.call.args {
		t := s.operand(frame, a)
		if t == nil {
			return sigExited
		}
		args = append(args, t)
	}
	s.args = args // built-ins do not keep their arguments, nor call back
	if s.w != nil {
		s.w.call(c, args)
	}
	if !s.bctxOK {
		s.builtinContext()
	}
	s.out, s.nout = nil, 0
	err := c.builtin(s.bctx, args, s.onOut)
	out, n := s.out, s.nout
	if err != nil {
		if cerr := s.cancel.ended(); cerr != nil { // a built-in stopped by it
			return s.fail(&CancelError{Cause: cerr})
		}
		if h, ok := err.(topdown.Halt); ok { // as topdown: whatever the strictness
			return s.fail(fmt.Errorf("regovm: %s: %w", c.name, h.Err))
		}
		if s.opts.StrictBuiltinErrors {
			return s.fail(fmt.Errorf("regovm: %s: %w", c.name, err))
		}
		return sigExited
	}
	if n > 1 {
		return s.fail(fmt.Errorf("regovm: built-in %s gave %d results", c.name, n))
	}
	if c.noOut {
		if n == 0 {
			return sigExited
		}
		return sigDone
	}
	if out == nil {
		return sigExited
	}
	frame[x.target] = out
	return sigDone
}

// noLocation is the location built-ins are called from: the plan keeps
// none that they could use.
var noLocation = &ast.Location{}

// builtinContext readies the context built-ins get, once per evaluation
// that calls one: the evaluation's context, a cache (reused, cleared on
// release) and, when the program calls time.now_ns, the time.
func (s *state) builtinContext() {
	if s.bctx.Cache == nil {
		s.bctx.Cache = builtins.Cache{}
		s.bctx.Location = noLocation
	}
	s.bctx.Context = s.ctx
	s.bctx.Cancel = &s.cancel
	if s.p.usesTime {
		now := s.opts.Time
		if now.IsZero() {
			now = time.Now()
		}
		s.bctx.Time = ast.NewTerm(ast.Number(strconv.FormatInt(now.UnixNano(), 10)))
	}
	s.bctxOK = true
}

func (s *state) builtinOut(t *ast.Term) error {
	s.out = t
	s.nout++
	return nil
}

// callFunc calls planned function i; nil is undefined. Its frame is taken
// from the evaluation's stack and given back on return.
func (s *state) callFunc(frame []*ast.Term, i int, args []opnd) (*ast.Term, error) {
	fn := s.p.funcs[i]
	if fn.constant != nil {
		return fn.constant.v, nil
	}
	if fn.memo && s.memo[i].known {
		return s.memo[i].v, nil
	}
	s.calls++
	if s.step() != sigDone {
		return nil, s.err
	}
	base := len(s.stack)
	s.stack = append(s.stack, make([]*ast.Term, fn.nlocals)...)
	callee := s.stack[base : base+fn.nlocals : base+fn.nlocals]
	for j, l := range fn.params {
		callee[l] = s.operand(frame, args[j])
	}
	for _, b := range fn.code {
		r := s.block(callee, b)
		if s.err != nil {
			return nil, s.err
		}
		if r == sigReturn || r >= 0 {
			break
		}
	}
	v := callee[fn.f.Return]
	clear(callee)
	s.stack = s.stack[:base]
	if fn.memo {
		s.memo[i] = memoEntry{v: v, known: true}
	}
	return v, nil
}

// dot is opa_value_get: an object's value, an array's element, a set's
// member; nil when there is none.
func dot(src, key *ast.Term) *ast.Term {
	if src == nil || key == nil {
		return nil
	}
	switch c := src.Value.(type) {
	case ast.Object:
		return c.Get(key)
	case *ast.Array:
		n, ok := key.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= c.Len() {
			return nil
		}
		return c.Elem(i)
	case ast.Set:
		if c.Contains(key) {
			return key
		}
	}
	return nil
}

// length is opa_value_length: 0 for what has none.
func length(t *ast.Term) int {
	if t == nil {
		return 0
	}
	switch c := t.Value.(type) {
	case *ast.Array:
		return c.Len()
	case ast.Object:
		return c.Len()
	case ast.Set:
		return c.Len()
	case ast.String:
		return len([]rune(string(c)))
	}
	return 0
}

// merge is opa_value_merge: objects merge recursively; otherwise a wins.
func merge(a, b *ast.Term) *ast.Term {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	oa, ok1 := a.Value.(ast.Object)
	ob, ok2 := b.Value.(ast.Object)
	if !ok1 || !ok2 {
		return a
	}
	out := ast.NewObject()
	for _, k := range slices.Concat(oa.Keys(), ob.Keys()) {
		if out.Get(k) != nil {
			continue
		}
		out.Insert(k, merge(oa.Get(k), ob.Get(k)))
	}
	return ast.NewTerm(out)
}
