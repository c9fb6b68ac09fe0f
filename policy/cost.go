package policy

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/ds4p/ds4p/internal/regovm"
	"github.com/open-policy-agent/opa/v1/ast"
)

// CostReport is what deciding the case inputs of a policy tree costs, as
// the proxy's response path decides them (`ds4p policy check` prints it),
// so that whoever changes the policy sees what a change does to it: the
// target is 30 µs per decision on a 2-core machine (README, "Targets").
type CostReport struct {
	// Cases is how many case inputs were decided. A case whose
	// evaluation fails is left out, as TimeReuse leaves it: the case
	// matrix judges it. (Under the interpreter only a failure topdown
	// shares can occur: any other difference makes topdown serve.)
	Cases int
	// First is a response's first decision about a patient: its fixed
	// verdicts (the consents matched against the caller) and the decision
	// itself. Later is a later decision of the same response or context,
	// the fixed verdicts known.
	First, Later Cost
	// Slowest names the case whose first decision took longest.
	Slowest string
}

// Cost is the spread of one kind of decision over the case inputs.
type Cost struct {
	// Calls of the policy's rules and functions per decision, and the
	// interpreter's instructions (the same on every machine, in every run
	// and under any load; regovm.Stats).
	MedianCalls, MaxCalls               int
	MedianInstructions, MaxInstructions int
	// Time per decision on this machine: for each case the fastest of its
	// rounds, then the median and the largest over the cases.
	Median, Max time.Duration
}

// Cost decides every case input of fsys (cases/*.yaml), which must be the
// tree e's revision in force was loaded from, rounds times each (at least
// once), and reports what the decisions cost. Only the interpreter (the
// default evaluator) is measured; for a revision OPA's evaluator serves,
// it is an error.
func (e *Engine) Cost(ctx context.Context, fsys fs.FS, rounds int) (CostReport, error) {
	var r CostReport
	p := e.cur.Load()
	if p == nil {
		return r, fmt.Errorf("policy: no policy loaded")
	}
	if p.vm == nil {
		return r, fmt.Errorf("policy: OPA's evaluator (topdown) serves this revision, whose cost is not measured: %s", p.vmOff)
	}
	rounds = max(rounds, 1)
	m := newInputMemo()
	// eval decides input with prog rounds times: the value, the counts of
	// one evaluation, and the fastest one's time.
	eval := func(prog *regovm.Program, input ast.Value) (ast.Value, regovm.Stats, time.Duration, error) {
		var v ast.Value
		var stats regovm.Stats
		best := time.Duration(-1)
		for range rounds {
			stats = regovm.Stats{}
			t0 := time.Now()
			out, err := prog.Eval(ctx, input, regovm.Options{StrictBuiltinErrors: true, Stats: &stats})
			d := time.Since(t0)
			if err != nil {
				return nil, regovm.Stats{}, 0, err
			}
			v = out
			if best < 0 || d < best {
				best = d
			}
		}
		return v, stats, best, nil
	}
	var first, later []sample
	slowest := time.Duration(-1)
	err := eachCase(fsys, !e.noIndex, func(c Case, cs *consentSet) bool {
		var f sample
		var fixed *ast.Term
		if p.vm.fixed != nil {
			v, st, d, err := eval(p.vm.fixed, c.Input.contextValue(cs.value, m))
			if err != nil {
				return true // left out
			}
			if v != nil {
				fixed = ast.NewTerm(v)
			}
			f = sample{st.Calls, st.Instructions, d}
		}
		in := c.Input
		in.Brief = true // as the response path asks
		_, st, d, err := eval(p.vm.decision, in.value(cs.value, m, fixed))
		if err != nil {
			return true // left out
		}
		f.calls, f.instrs, f.d = f.calls+st.Calls, f.instrs+st.Instructions, f.d+d
		first, later = append(first, f), append(later, sample{st.Calls, st.Instructions, d})
		if f.d > slowest {
			slowest, r.Slowest = f.d, c.Name
		}
		return true
	})
	if err != nil {
		return r, err
	}
	r.Cases = len(first)
	r.First, r.Later = spread(first), spread(later)
	return r, nil
}

// sample is one decision's calls, instructions and time.
type sample struct {
	calls, instrs int
	d             time.Duration
}

// spread is the median and largest of samples, calls and times apart.
func spread(samples []sample) Cost {
	if len(samples) == 0 {
		return Cost{}
	}
	calls := make([]int, len(samples))
	instrs := make([]int, len(samples))
	ds := make([]time.Duration, len(samples))
	for i, s := range samples {
		calls[i], instrs[i], ds[i] = s.calls, s.instrs, s.d
	}
	slices.Sort(calls)
	slices.Sort(instrs)
	slices.Sort(ds)
	mid, last := len(samples)/2, len(samples)-1
	return Cost{MedianCalls: calls[mid], MaxCalls: calls[last], MedianInstructions: instrs[mid], MaxInstructions: instrs[last],
		Median: ds[mid], Max: ds[last]}
}
