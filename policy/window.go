package policy

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"strings"

	"github.com/ds4p/ds4p/internal/regovm"
	"github.com/open-policy-agent/opa/v1/ast"
)

// A window is the request times [lo, hi) for which an evaluation is known
// to come out the same: a cached decision, or a context's fixed verdicts,
// is reused only inside it.
//
// The interpreter reports it (regovm.Watch): it follows input.request.time_ns
// through the evaluation and narrows the window at every comparison of the
// time with a number (a consent's or provision's period bound, a
// break-the-glass token's iat or exp, or anything a policy author compares
// it with, such as the date a state law takes effect). Any other use of the
// time (arithmetic, a built-in, time.now_ns(), ...) leaves the window
// unknown, and so does evaluation by topdown: the answer then holds for its
// own request time only, that is within one response, whose decision
// classes share it.
type window struct{ lo, hi int64 }

// instant is the window of an evaluation that holds for time t only.
func instant(t int64) window {
	if t == math.MaxInt64 {
		return window{t - 1, t}
	}
	return window{t, t + 1}
}

func (w window) holds(t int64) bool { return w.lo <= t && t < w.hi }

func (w window) intersect(o window) window { return window{max(w.lo, o.lo), min(w.hi, o.hi)} }

// timeWatch returns a watch on input's request time: input is an input
// document built by Input.value or Input.contextValue.
func timeWatch(input ast.Value) *regovm.Watch {
	obj, ok := input.(ast.Object)
	if !ok {
		return nil
	}
	req := obj.Get(kRequest)
	if req == nil {
		return nil
	}
	ro, ok := req.Value.(ast.Object)
	if !ok {
		return nil
	}
	return &regovm.Watch{Term: ro.Get(kTimeNs), Holder: req}
}

// evalVM evaluates prog on input with the time watched, and returns the
// window of request times the answer holds for: instant(t) when the
// interpreter could not follow the time, and then why (lost).
func evalVM(ctx context.Context, prog *regovm.Program, input ast.Value, t int64) (v ast.Value, win window, lost string, err error) {
	w := timeWatch(input)
	v, err = prog.Eval(ctx, input, regovm.Options{StrictBuiltinErrors: true, Watch: w})
	switch {
	case w == nil:
		return v, instant(t), "the input has no request time", err
	case w.Lost != "":
		return v, instant(t), strings.ReplaceAll(w.Lost, "the watched value", "input.request.time_ns"), err
	}
	return v, window{w.Lo, w.Hi}, "", err
}

// noteLost remembers, and logs, the first reason an evaluation of p's
// revision could not be reused at other request times (Status.DecisionReuse).
func (e *Engine) noteLost(p *prepared, why string) {
	if why == "" || p.timeLost.Load() != nil {
		return
	}
	// A copy to point at, made only here: &why would move the argument to
	// the heap on every call, the ones with nothing to note included.
	own := why
	if p.timeLost.CompareAndSwap(nil, &own) {
		e.log.Warn("policy: some decisions hold for their own request time only, and are not reused across requests",
			"revision", p.revision, "why", why)
	}
}

// reuse describes how p's decisions are reused across requests.
func (p *prepared) reuse() string {
	switch {
	case p.decisions == nil:
		return "within a response: the decision cache is off"
	case p.vm == nil:
		return "within a response: topdown cannot tell for which request times a decision holds"
	}
	if why := p.timeLost.Load(); why != nil {
		return "across requests, except decisions that hold for their own request time only: " + *why
	}
	return "across requests, within the request times each decision holds for"
}

// eachCase calls fn with every case input of fsys (cases/*.yaml) whose
// consents convert, and their policy form (indexed or not), until fn
// returns false.
func eachCase(fsys fs.FS, index bool, fn func(Case, *consentSet) bool) error {
	sets, err := LoadCases(fsys)
	if err != nil {
		return err
	}
	for _, set := range sets {
		for _, c := range set.Cases {
			cs, err := newConsentSet(c.Input.Consents, c.Input.Patient, index)
			if err != nil {
				continue // the case matrix reports it
			}
			if !fn(c, cs) {
				return nil
			}
		}
	}
	return nil
}

// decisionForms are the inputs a case's decision is checked in: full,
// brief, and brief with the response's fixed verdicts (nil: none), as the
// response path evaluates it.
func decisionForms(in Input, cs *consentSet, m *inputMemo, fixed *ast.Term) [3]ast.Value {
	var out [3]ast.Value
	for i, v := range []struct {
		brief bool
		fixed *ast.Term
	}{{false, nil}, {true, nil}, {true, fixed}} {
		in.Brief = v.brief
		out[i] = in.value(cs.value, m, v.fixed)
	}
	return out
}

// TimeReport says whether the interpreter follows a policy's use of the
// request time on the inputs of its case matrix.
type TimeReport struct {
	// Evaluations is how many evaluations were followed: each case's
	// fixed verdicts, and its decision in full, brief, and brief with the
	// fixed verdicts, as the response path evaluates.
	Evaluations int
	// Bounded is how many of them depend on the time at all.
	Bounded int
	// Lost, when not "", names the first case whose evaluation the
	// interpreter could not follow, and why: such decisions hold for their
	// own request only (correct, and slower).
	Lost string
}

// TimeReuse evaluates every case input of fsys (cases/*.yaml), which must be
// the tree e's revision in force was loaded from, with the time watched
// (regovm.Watch), and reports whether decisions of the revision can be
// reused at other request times (`ds4p policy check` prints it).
func (e *Engine) TimeReuse(ctx context.Context, fsys fs.FS) (TimeReport, error) {
	var r TimeReport
	p := e.cur.Load()
	if p == nil {
		return r, fmt.Errorf("policy: no policy loaded")
	}
	if p.vm == nil {
		r.Lost = "OPA's evaluator (topdown) serves this revision: " + p.vmOff
		return r, nil
	}
	m := newInputMemo()
	follow := func(name, what string, prog *regovm.Program, input ast.Value, t int64) ast.Value {
		v, win, lost, err := evalVM(ctx, prog, input, t)
		switch {
		case err != nil: // the case matrix reports failing cases
			return nil
		case lost != "" && r.Lost == "":
			r.Lost = fmt.Sprintf("case %q, %s: %s", name, what, lost)
		case lost == "":
			r.Evaluations++
			if win.lo != math.MinInt64 || win.hi != math.MaxInt64 {
				r.Bounded++
			}
		}
		return v
	}
	err := eachCase(fsys, !e.noIndex, func(c Case, cs *consentSet) bool {
		var fixed *ast.Term
		if p.vm.fixed != nil {
			if v := follow(c.Name, "fixed verdicts", p.vm.fixed, c.Input.contextValue(cs.value, m), c.Input.Request.TimeNS); v != nil {
				fixed = ast.NewTerm(v)
			}
		}
		for _, val := range decisionForms(c.Input, cs, m, fixed) {
			follow(c.Name, "decision", p.vm.decision, val, c.Input.Request.TimeNS)
		}
		return true
	})
	if err != nil {
		return r, err
	}
	return r, nil
}
