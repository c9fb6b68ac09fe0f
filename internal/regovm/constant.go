package regovm

import (
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// A rule that reads no input has the same value in every evaluation of a
// program: the policy data is the program's own (Compile), fixed for its
// life, and a reload compiles a new program. Such rules (a graph of the
// configured purposes, a rank of the confidentiality codes, the constant
// part of a notice) are worked out once, when the program is compiled,
// and every evaluation reads the value instead of rebuilding it.
//
// A rule is constant when local ir.Data holds the policy data in every
// frame (dataIsFixed), and neither it nor a function it calls names its
// input other than to pass it on as a call's first argument, calls a
// built-in whose answer does not follow from its arguments (time.now_ns,
// rand.intn, http.send: OPA's nondeterministic built-ins, those that
// read the evaluation's time, and those that read the clock: clockBuiltins),
// or one with an effect of its own (print,
// trace). Its value is kept only when it was worked out without an error
// (a conflict, a built-in's error, the end of the budget below) and is not
// large: otherwise evaluations work it out as before, and fail as before.
//
// Evaluations share the values read-only, as they share the policy data:
// the interpreter writes only into objects, sets and arrays it made in the
// same call, and OPA's values sort their keys under a sync.Once.

// constBudget bounds the time Compile spends working out constant rules;
// one that takes longer is left to each evaluation.
const constBudget = 100 * time.Millisecond

// constMaxTerms is the most terms a constant rule's value may hold to be
// kept for the life of the program.
const constMaxTerms = 1 << 16

// constants works out p's constant rules and keeps their values.
func (p *Program) constants(ctx context.Context) {
	if !p.dataFixed {
		return
	}
	free := p.inputFree()
	ctx, cancel := context.WithTimeout(ctx, constBudget)
	defer cancel()
	opts := &Options{StrictBuiltinErrors: true}
	var s *state
	for i, fn := range p.funcs {
		if !fn.memo || !free[i] || fn.constant != nil {
			continue
		}
		if s == nil {
			s = p.newState()
			s.ctx, s.opts = ctx, opts
			s.cancel.ctx = ctx
			s.cancel.deadline, s.cancel.hasDeadline = ctx.Deadline()
		}
		err := s.constant(i)
		if err == nil {
			err = s.cancel.ended()
		}
		if err != nil {
			// Rules it completed before the error are sound; the state
			// is not (its stack and error), so the next rule starts anew.
			p.keep(s, free)
			s.release()
			s = nil
			if ctx.Err() != nil {
				return
			}
			continue
		}
		p.keep(s, free)
	}
	if s != nil {
		s.release()
	}
}

// constant works out rule i in s; a panic, as Eval's, is an error.
func (s *state) constant(i int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("regovm: evaluation panicked: %v", r)
		}
	}()
	frame := make([]*ast.Term, 2) // input (none) and data
	frame[ir.Data] = s.p.data
	_, err = s.callFunc(frame, i, []opnd{opnd(ir.Input), opnd(ir.Data)})
	return err
}

// keep makes the rules s has worked out, of those free of input, constant.
func (p *Program) keep(s *state, free []bool) {
	for j, m := range s.memo {
		if m.known && free[j] && p.funcs[j].memo && p.funcs[j].constant == nil && small(m.v) {
			p.funcs[j].constant = &memoEntry{v: m.v, known: true}
		}
	}
}

// small reports whether t (nil: undefined) holds at most constMaxTerms terms.
func small(t *ast.Term) bool {
	if t == nil {
		return true
	}
	n := 0
	ast.WalkTerms(t, func(*ast.Term) bool {
		n++
		return n > constMaxTerms
	})
	return n <= constMaxTerms
}

// impure are built-ins with an effect beyond their answer.
var impure = map[string]bool{ast.InternalPrint.Name: true, ast.Trace.Name: true}

// inputFree reports, per function, whether it (and what it calls) reads
// no input and calls no built-in whose answer does not follow from its
// arguments alone.
func (p *Program) inputFree() []bool {
	const (
		unknown = iota
		visiting
		yes
		no
	)
	st := make([]int, len(p.funcs))
	var visit func(i int) bool
	visit = func(i int) bool {
		switch st[i] {
		case yes:
			return true
		case no, visiting: // Rego has no recursion; refuse it should a plan have one
			return false
		}
		st[i] = visiting
		ok := true
		check := func(x ir.Stmt) {
			if !ok {
				return
			}
			if c, isCall := x.(*ir.CallStmt); isCall {
				callee := p.calls[c]
				if callee.fn < 0 && (callee.nondet || impure[callee.name]) {
					ok = false
					return
				}
				for j, a := range c.Args {
					if l, isLocal := a.Value.(ir.Local); isLocal && l == ir.Input && (j != 0 || callee.fn < 0) {
						ok = false
						return
					}
				}
				if callee.fn >= 0 && !visit(callee.fn) {
					ok = false
				}
				return
			}
			locals(x, func(l ir.Local) {
				if l == ir.Input {
					ok = false
				}
			})
		}
		for _, b := range p.funcs[i].f.Blocks {
			walk(b, check)
		}
		st[i] = no
		if ok {
			st[i] = yes
		}
		return ok
	}
	free := make([]bool, len(p.funcs))
	for i := range p.funcs {
		free[i] = visit(i)
	}
	return free
}
