package stages

import (
	"context"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/open-policy-agent/opa/v1/ast"
)

// decideCase is one response to decide: its labelled entries and the
// normalised consents of every patient in it.
type decideCase struct {
	corpus
	results  []labels.Result
	consents map[string][]any
}

func newDecideCases(b *testing.B) []decideCase {
	b.Helper()
	ctx := context.Background()
	cs := openConsents(b, openDB(b))
	l := labels.Default()
	var out []decideCase
	for _, c := range corpora(b) {
		results, err := labelAll(l, c)
		if err != nil {
			b.Fatal(err)
		}
		dc := decideCase{corpus: c, results: results, consents: map[string][]any{}}
		for _, r := range results {
			if _, ok := dc.consents[r.Patient]; !ok {
				if dc.consents[r.Patient], err = policyConsents(ctx, cs, r.Patient); err != nil {
					b.Fatal(err)
				}
			}
		}
		out = append(out, dc)
	}
	return out
}

// input is the policy input the proxy builds for one item of a search.
func (dc decideCase) input(caller policy.Caller, r labels.Result, now int64) policy.Input {
	return policy.Input{
		Caller:   caller,
		Request:  policy.Request{Interaction: "search", Type: "Observation", TimeNS: now},
		Patient:  r.Patient,
		Consents: dc.consents[r.Patient],
		Item:     policy.Item{Type: r.Type, Labels: labelStrings(r.Labels)},
	}
}

// BenchmarkDecide measures the decide stage on labelled Bundles:
//   - class: one policy.Engine.Decide per decision class (patient, type,
//     label set), as the proxy does; evals/response counts the classes;
//   - entry: one Decide per entry, what classes save;
//   - input: only building the OPA input value (ast.InterfaceToValue) per
//     class, the part of Decide that an input built as ast.Value would save.
//
// Consents are read beforehand (see BenchmarkConsents).
func BenchmarkDecide(b *testing.B) {
	eng := newEngine(b)
	ctx := context.Background()
	for _, dc := range newDecideCases(b) {
		for _, cl := range callers {
			b.Run("class/"+cl.name+"/"+dc.name, func(b *testing.B) {
				var evals, withheld int
				measure(b, len(dc.body), dc.entries(), func() error {
					var err error
					evals, withheld, err = decideClasses(ctx, eng, dc, cl.caller)
					return err
				})
				reportDecide(b, evals, withheld)
			})
			b.Run("entry/"+cl.name+"/"+dc.name, func(b *testing.B) {
				var withheld int
				measure(b, len(dc.body), dc.entries(), func() error {
					var err error
					withheld, err = decideEntries(ctx, eng, dc, cl.caller)
					return err
				})
				reportDecide(b, dc.entries(), withheld)
			})
		}
		b.Run("input/"+dc.name, func(b *testing.B) {
			ins := classInputs(dc, callers[0].caller)
			measure(b, len(dc.body), dc.entries(), func() error {
				for _, in := range ins {
					in.Version = policy.InputVersion
					if _, err := ast.InterfaceToValue(in); err != nil {
						return err
					}
				}
				return nil
			})
			b.ReportMetric(float64(len(ins)), "evals/response")
		})
	}
}

func reportDecide(b *testing.B, evals, withheld int) {
	b.ReportMetric(float64(evals), "evals/response")
	b.ReportMetric(float64(withheld), "withheld/response")
	if evals > 0 && b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(evals), "µs/eval")
	}
}

// decideClasses groups the entries into decision classes and evaluates each
// class once; it returns the classes and the entries withheld.
func decideClasses(ctx context.Context, eng *policy.Engine, dc decideCase, caller policy.Caller) (evals, withheld int, err error) {
	now := time.Now().UnixNano()
	classes := map[string]bool{}
	for _, r := range dc.results {
		key := classKey(r)
		permit, ok := classes[key]
		if !ok {
			d, err := eng.Decide(ctx, dc.input(caller, r, now))
			if err != nil {
				return 0, 0, err
			}
			permit = d.Permitted()
			classes[key] = permit
		}
		if !permit {
			withheld++
		}
	}
	return len(classes), withheld, nil
}

func decideEntries(ctx context.Context, eng *policy.Engine, dc decideCase, caller policy.Caller) (withheld int, err error) {
	now := time.Now().UnixNano()
	for _, r := range dc.results {
		d, err := eng.Decide(ctx, dc.input(caller, r, now))
		if err != nil {
			return 0, err
		}
		if !d.Permitted() {
			withheld++
		}
	}
	return withheld, nil
}

// classInputs returns one input per decision class of dc.
func classInputs(dc decideCase, caller policy.Caller) []policy.Input {
	now := time.Now().UnixNano()
	seen := map[string]bool{}
	var out []policy.Input
	for _, r := range dc.results {
		if key := classKey(r); !seen[key] {
			seen[key] = true
			out = append(out, dc.input(caller, r, now))
		}
	}
	return out
}

// BenchmarkConsents measures what the proxy does once per patient of each
// response before deciding: read the patient's consents from the bbolt
// store and normalise them for the policy input. The Bundles span several
// patients; pat-0 holds one consent.
func BenchmarkConsents(b *testing.B) {
	ctx := context.Background()
	cs := openConsents(b, openDB(b))
	l := labels.Default()
	for _, c := range corpora(b) {
		results, err := labelAll(l, c)
		if err != nil {
			b.Fatal(err)
		}
		patients := map[string]bool{}
		for _, r := range results {
			patients[r.Patient] = true
		}
		b.Run(c.name, func(b *testing.B) {
			measure(b, len(c.body), c.entries(), func() error {
				for p := range patients {
					if _, err := policyConsents(ctx, cs, p); err != nil {
						return err
					}
				}
				return nil
			})
			b.ReportMetric(float64(len(patients)), "patients/response")
		})
	}
}
