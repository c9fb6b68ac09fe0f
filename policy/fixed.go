package policy

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// Verdicts fixed for a whole response.
//
// Most consents state only who may see the data, for what and when: their
// verdict (which provision decides) is the same for every item of a
// response. The default policy says which consents those are
// (data.ds4p.fixed_verdicts, consent.rego); the engine evaluates that rule
// once per response context (patient's consent versions, caller, request)
// and hands the result to each item's evaluation as input.fixed_verdicts,
// which the policy then reads instead of matching the provisions again.
// The decision is the same either way (TestFixedVerdictsChangeNoDecision);
// only the work is shared. The first decision in a context is evaluated
// plainly, so a response with one decision class (a read) costs no more.
//
// A context outlives its request: its key leaves out the request time, and
// its verdicts are reused at any time inside the window the interpreter
// reported for them (window.go): the request times for which their
// evaluation comes out the same. A caller's later requests about the same
// patient then start from its fixed verdicts: a read of a class the
// decision cache does not hold costs an evaluation with them, not a plain
// one (TestFixedVerdictsAcrossRequests). Verdicts whose window is one
// instant (topdown, or a policy using the time in a way the interpreter
// does not follow) serve their own request only.
//
// It is on only when it is safe: the policy defines fixed_verdicts and
// caller_criteria, and nothing fixed_verdicts reaches reads input.item,
// except the permits and denies clauses of criteria outside
// caller_criteria (which fixed_verdicts leaves to each item). A policy that
// changes this is evaluated plainly; Status says which.

const (
	fixedQuery         = "data.ds4p.fixed_verdicts"
	callerCriteriaPath = "data.ds4p.caller_criteria"
)

// fixedEntry is one response context: seen once (term nil), or with its
// fixed verdicts, valid for the request times of win.
type fixedEntry struct {
	term *ast.Term
	win  window
	// consents is the digest of the consents' policy form it was seen
	// or worked out with (consentSet.digest): an entry of another
	// content under the same consent versions is not this context's.
	consents [16]byte
}

// prepareFixed prepares the fixed_verdicts query when the policy allows it,
// with the input fields it may read (what a context's key holds, fixedKey);
// otherwise it returns a nil query and the reason.
func prepareFixed(ctx context.Context, mods map[string]*ast.Module, store storage.Store) (*rego.PreparedEvalQuery, *reads, string) {
	crit, err := callerCriteria(ctx, mods, store)
	if err != nil {
		return nil, nil, err.Error()
	}
	comp := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if comp.Compile(mods); comp.Failed() {
		return nil, nil, "compiling: " + comp.Errors.Error()
	}
	rd := &reads{fields: map[string]bool{}, typeCriteria: map[string]bool{}}
	if why := itemReachable(comp, crit, rd); why != "" {
		return nil, nil, why
	}
	pq, err := rego.New(regoOptions(fixedQuery, store, mods)...).PrepareForEval(ctx)
	if err != nil {
		return nil, nil, "preparing: " + err.Error()
	}
	return &pq, rd, ""
}

// callerCriteria evaluates data.ds4p.caller_criteria, a set of strings.
func callerCriteria(ctx context.Context, mods map[string]*ast.Module, store storage.Store) (map[string]bool, error) {
	rs, err := rego.New(regoOptions(callerCriteriaPath, store, mods)...).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", callerCriteriaPath, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, fmt.Errorf("the policy defines no %s", callerCriteriaPath)
	}
	set, ok := rs[0].Expressions[0].Value.(ast.Set)
	if !ok {
		return nil, fmt.Errorf("%s is not a set", callerCriteriaPath)
	}
	crit := map[string]bool{}
	var bad error
	set.Foreach(func(t *ast.Term) {
		if s, ok := t.Value.(ast.String); ok {
			crit[string(s)] = true
		} else {
			bad = fmt.Errorf("%s holds a %s", callerCriteriaPath, ast.ValueName(t.Value))
		}
	})
	return crit, bad
}

// itemReachable walks every rule that fixed_verdicts may evaluate and
// returns why it is unsafe (a reference to input.item, input.brief or any
// other input field outside the response context, or to input as a whole)
// or "" when it is not, recording in rd the input fields they read.
// permits/denies clauses for a criterion outside crit are not followed:
// fixed_verdicts only takes consents whose criteria are all in crit.
func itemReachable(comp *ast.Compiler, crit map[string]bool, rd *reads) string {
	start := comp.GetRules(ast.MustParseRef(fixedQuery))
	if len(start) == 0 {
		return "the policy defines no " + fixedQuery
	}
	seen := map[*ast.Rule]bool{}
	stack := append([]*ast.Rule(nil), start...)
	why := ""
	for len(stack) > 0 && why == "" {
		r := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[r] || skippedCriterion(r, crit) {
			continue
		}
		seen[r] = true
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			switch {
			case why != "":
			case ref[0].Equal(ast.InputRootDocument):
				// The fixed evaluation's input is the response context
				// alone (Input.contextValue): anything else is item- or
				// decision-specific.
				if k, ok := key(ref, 1); !ok || !contextFields[k] {
					why = fmt.Sprintf("rule %s (line %d) reads %s", r.Head.Name, r.Location.Row, ref)
				}
				rd.add(ref)
			case ref[0].Equal(ast.DefaultRootDocument):
				stack = append(stack, comp.GetRules(ref.ConstantPrefix())...)
			}
			return false
		})
	}
	return why
}

// contextFields are the input fields of a response context, what the
// fixed evaluation's input holds.
var contextFields = map[string]bool{"version": true, "caller": true, "request": true, "patient": true, "consents": true, "caller_is_patient": true}

// skippedCriterion reports a permits or denies clause for a named criterion
// outside crit.
func skippedCriterion(r *ast.Rule, crit map[string]bool) bool {
	c, ok := criterionClause(r)
	return ok && !crit[c]
}

// fixedKey names a response context: the consent versions and every other
// input field fixed_verdicts may read (r, found by prepareFixed), the
// request time only when timed (otherwise the entry's window bounds it).
// The default policy's fixed verdicts read the caller and the consents,
// not the request's type or interaction: a caller's requests of every kind
// about a patient share a context. It is "" when in carries no ConsentKey
// (nothing is shared then).
func (in *Input) fixedKey(timed bool, r *reads) string {
	if in.ConsentKey == "" {
		return ""
	}
	var buf [512]byte
	b := append(buf[:0], in.ConsentKey...)
	b = append(b, 0)
	b = in.appendContextKey(b, r.keyFields()) // input.go, as the decision cache's
	if timed {
		b = strconv.AppendInt(b, in.Request.TimeNS, 10)
	}
	return string(b)
}

// fixedVerdicts returns the fixed verdicts of in's response context and
// the request times they hold for, or nil when the decision is to be
// evaluated plainly: the first decision of a context, a policy that does
// not allow it, or an evaluation error (the plain evaluation then decides,
// or fails closed).
func (e *Engine) fixedVerdicts(ctx context.Context, p *prepared, in *Input, cs *consentSet) (*ast.Term, window) {
	if p.fixed == nil || p.contexts == nil {
		return nil, window{}
	}
	// Under topdown the verdicts hold for their own request only: a
	// context is one request, as it always was.
	key := in.fixedKey(p.vm == nil || p.vm.fixed == nil, p.fixedReads)
	if key == "" {
		return nil, window{}
	}
	now := in.Request.TimeNS
	ent, ok := p.contexts.get(key)
	if !ok || ent.consents != cs.digest {
		p.contexts.put(key, fixedEntry{consents: cs.digest})
		return nil, window{}
	}
	if ent.term != nil {
		switch {
		case ent.win.holds(now):
			e.fixedUsed.Add(1)
			return ent.term, ent.win
		case ent.win.hi-ent.win.lo == 1:
			// Verdicts of one instant: this is another request, seen as
			// for the first time.
			p.contexts.put(key, fixedEntry{consents: cs.digest})
			return nil, window{}
		}
	}
	t, win, err := e.evalFixed(ctx, p, in, cs, e.memo)
	if err != nil {
		return nil, window{}
	}
	p.contexts.put(key, fixedEntry{term: t, win: win, consents: cs.digest})
	e.fixedUsed.Add(1)
	return t, win
}

// evalFixed evaluates the fixed verdicts of in's context, and the request
// times they hold for.
func (e *Engine) evalFixed(ctx context.Context, p *prepared, in *Input, cs *consentSet, m *inputMemo) (t *ast.Term, win window, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("policy: fixed verdicts panicked: %v", r)
		}
	}()
	input := in.contextValue(cs.value, m)
	var val ast.Value
	win = instant(in.Request.TimeNS)
	if p.vm != nil && p.vm.fixed != nil { // vm.go
		var lost string
		val, win, lost, err = evalVM(ctx, p.vm.fixed, input, in.Request.TimeNS)
		e.noteLost(p, lost)
	} else {
		val, err = topdownValue(ctx, *p.fixed, input)
	}
	if err != nil {
		return nil, win, err
	}
	if val == nil {
		return nil, win, errors.New("policy: fixed verdicts undefined")
	}
	v, ok := val.(ast.Object)
	if !ok {
		return nil, win, errors.New("policy: fixed verdicts are not an object")
	}
	return ast.NewTerm(v), win, nil
}
