package regovm

import (
	"math"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Watch follows one integer of the input (a request time) through an
// evaluation, so that a caller can reuse the answer for other values of it:
// after Eval, the evaluation would have gone exactly the same way, statement
// by statement, for any value in [Lo, Hi), unless Lost says why that is not
// known.
//
// The value is followed by identity: Term is the very term the input holds
// (locals, arguments and rule values are terms, so it keeps its identity as
// it moves), and Holder is the term that holds it (the input itself is
// added by Eval). Comparing it with an integer (<, <=, >, >=, ==, != as
// built-ins or statements) narrows the window to the values for which the
// comparison comes out the same. Anything else it, or one of its holders,
// takes part in is a use the window cannot follow, and loses it: arithmetic
// or any other built-in (sprintf, object.get on a holder, ...), a key
// lookup, a place in an array, object or set, or in the result, a rule
// value compared with another, a comparison with a non-integer. So does a
// call of a built-in whose answer does not follow from its arguments
// (time.now_ns, http.send, rand.intn: OPA's nondeterministic built-ins).
//
// Soundness: two evaluations whose statements see the same values take the
// same path. The watched value differs between them only in the outcomes
// of the comparisons watched, and those are the same inside [Lo, Hi).
type Watch struct {
	Term   *ast.Term // the watched integer, as the input holds it
	Holder *ast.Term // the object of the input holding Term, if any

	Lo, Hi int64  // out: the values with the same evaluation
	Lost   string // out: why the window is not known ("" when it is)

	t       int64
	holders [2]*ast.Term
	nh      int
}

// cmpOp is the comparison a built-in makes, with the watched value as its
// first argument; cmpNone for other built-ins.
type cmpOp uint8

const (
	cmpNone cmpOp = iota
	cmpLT
	cmpLTE
	cmpGT
	cmpGTE
	cmpEQ
	cmpNEQ
)

var comparisons = map[string]cmpOp{
	ast.LessThan.Name: cmpLT, ast.LessThanEq.Name: cmpLTE, ast.GreaterThan.Name: cmpGT,
	ast.GreaterThanEq.Name: cmpGTE, ast.Equal.Name: cmpEQ, ast.NotEqual.Name: cmpNEQ,
}

// flipped is op with its arguments swapped: x < w is w > x.
var flipped = [...]cmpOp{cmpNone: cmpNone, cmpLT: cmpGT, cmpLTE: cmpGTE, cmpGT: cmpLT, cmpGTE: cmpLTE, cmpEQ: cmpEQ, cmpNEQ: cmpNEQ}

// start readies w for an evaluation whose input term is input.
func (w *Watch) start(input *ast.Term) {
	w.Lo, w.Hi, w.Lost, w.nh = math.MinInt64, math.MaxInt64, "", 0
	if w.Term == nil {
		w.Lost = "nothing to watch"
		return
	}
	n, ok := w.Term.Value.(ast.Number)
	t, isInt := n.Int64()
	if !ok || !isInt {
		w.Lost = "the watched value is not an integer"
		return
	}
	if ast.HasInternedIntNumberTerm(int(t)) && w.Term == ast.InternedTerm(int(t)) {
		w.Lost = "the watched value is OPA's shared term for that integer: constants would pass for it"
		return
	}
	w.t = t
	for _, h := range [...]*ast.Term{w.Holder, input} {
		if h != nil {
			w.holders[w.nh] = h
			w.nh++
		}
	}
}

// holder reports a term that holds the watched value.
func (w *Watch) holder(t *ast.Term) bool {
	if t == nil {
		return false
	}
	for _, h := range w.holders[:w.nh] {
		if t == h {
			return true
		}
	}
	return false
}

// holds reports the watched value or a holder of it.
func (w *Watch) holds(t *ast.Term) bool {
	return t != nil && (t == w.Term || w.holder(t))
}

// lose records the first use the window cannot follow: how the watched
// value is used ("passed to plus").
func (w *Watch) lose(how string) {
	w.loseAll("the watched value is " + how)
}

// loseAll records the first reason the window is not known.
func (w *Watch) loseAll(why string) {
	if w.Lost == "" {
		w.Lost = why
	}
}

// call watches a built-in call.
func (w *Watch) call(c *callee, args []*ast.Term) {
	if c.nondet {
		w.loseAll("the policy calls " + c.name + ", whose answer does not follow from the input alone")
		return
	}
	for i, a := range args {
		if !w.holds(a) {
			continue
		}
		if a != w.Term || c.cmp == cmpNone || len(args) != 2 {
			w.lose("passed to " + c.name)
			return
		}
		op, other := c.cmp, args[1]
		if i == 1 {
			op, other = flipped[op], args[0]
		}
		if other == w.Term {
			return // compared with itself: the same for every value
		}
		w.compare(op, other)
		return
	}
}

// equality watches an EqualStmt or NotEqualStmt.
func (w *Watch) equality(a, b *ast.Term) {
	switch {
	case a == nil || b == nil || a == b:
	case w.holder(a) || w.holder(b):
		w.lose("compared as part of a larger value")
	case a == w.Term:
		w.compare(cmpEQ, b)
	case b == w.Term:
		w.compare(cmpEQ, a)
	}
}

// compare narrows the window to the values v for which "v op other" comes
// out as it does for the watched value. other is not a holder.
func (w *Watch) compare(op cmpOp, other *ast.Term) {
	if w.holds(other) {
		w.lose("compared with what holds it")
		return
	}
	n, ok := other.Value.(ast.Number)
	if !ok {
		return // a number against another type: ordered by type, the same for every number
	}
	x, ok := n.Int64()
	if !ok {
		w.lose("compared with a number that is not an int64 integer")
		return
	}
	// Each comparison changes its outcome at one or two values b: it is
	// the same for all v < b and for all v >= b.
	switch op {
	case cmpLT, cmpGTE: // v < x, v >= x
		w.bound(x)
	case cmpLTE, cmpGT: // v <= x, v > x
		w.boundAfter(x)
	case cmpEQ, cmpNEQ:
		w.bound(x)
		w.boundAfter(x)
	}
}

// boundAfter is bound(x+1), where x+1 exists.
func (w *Watch) boundAfter(x int64) {
	if x < math.MaxInt64 {
		w.bound(x + 1)
	}
}

// bound narrows the window at b.
func (w *Watch) bound(b int64) {
	if b <= w.t {
		w.Lo = max(w.Lo, b)
	} else {
		w.Hi = min(w.Hi, b)
	}
}
