package policy

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Status says which policy revision serves and whether a newer one was
// rejected.
type Status struct {
	// Source is where the policy comes from: "embedded" or a directory.
	Source string `json:"source"`
	// Revision is the revision in force; LoadedAt when it was loaded.
	Revision string    `json:"revision"`
	LoadedAt time.Time `json:"loaded_at"`
	// Rejected is the last attempt to load a different revision that
	// failed, while Revision kept serving; nil when the last attempt
	// succeeded or loaded the revision in force.
	Rejected *Rejection `json:"rejected,omitempty"`
	// FixedVerdicts is "on" when the revision in force shares the fixed
	// consent verdicts of a response across its decision classes
	// (fixed.go), or "off: " and why.
	FixedVerdicts string `json:"fixed_verdicts"`
	// Evaluator is "ir" when the revision in force is evaluated by
	// interpreting OPA's plan of it (vm.go), or "topdown" (OPA's evaluator)
	// and why.
	Evaluator string `json:"evaluator"`
	// DecisionReuse says whether decisions (and fixed verdicts) of the
	// revision in force are reused across requests, within the request
	// times each holds for (window.go), or only within a response, and
	// why.
	DecisionReuse string `json:"decision_reuse"`
}

// Rejection is a policy revision that failed to compile, to pass its tests
// or to validate its data.
type Rejection struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	Error    string    `json:"error"`
}

// Status returns the engine's current status.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.status
	if s.Rejected != nil {
		r := *s.Rejected
		s.Rejected = &r
	}
	if p := e.cur.Load(); p != nil && p.revision == s.Revision {
		s.DecisionReuse = p.reuse()
	}
	return s
}

// ReadyCheck reports, for /readyz, an error naming the rejected revision
// while an older one keeps serving, and nil otherwise.
func (e *Engine) ReadyCheck(context.Context) error {
	s := e.Status()
	if s.Rejected == nil {
		return nil
	}
	what := "policy revision " + s.Rejected.Revision
	if s.Rejected.Revision == "" { // it could not be read, so it has none
		what = "a policy change"
	}
	return degradedError{fmt.Errorf("%s from %s was rejected at %s and revision %s keeps serving: %s",
		what, s.Source, s.Rejected.At.UTC().Format(time.RFC3339), s.Revision, s.Rejected.Error)}
}

// degradedError is a readiness problem that does not stop the engine from
// serving: a rejected change leaves the last good revision in force. It
// says so with Degraded, which /readyz reads as "warn" rather than "fail":
// a bad bundle published to a fleet must not take every proxy out of
// rotation while each still decides with the revision it had.
type degradedError struct{ error }

// Degraded reports that the engine still serves.
func (degradedError) Degraded() bool { return true }

func (e degradedError) Unwrap() error { return e.error }

func (e *Engine) accept(ctx context.Context, p *prepared) {
	e.mu.Lock()
	fixed := "on"
	if p.fixed == nil {
		fixed = "off: " + p.fixedOff
	}
	evaluator := EvaluatorIR
	if p.vm == nil {
		evaluator = EvaluatorTopdown + ": " + p.vmOff
	}
	e.status = Status{Source: e.source, Revision: p.revision, LoadedAt: p.loadedAt, FixedVerdicts: fixed, Evaluator: evaluator}
	e.mu.Unlock()
	e.instrument.loaded(ctx, "loaded")
	e.log.Info("policy loaded", "source", e.source, "revision", p.revision, "fixed_verdicts", fixed, "evaluator", evaluator)
	e.notifyLoad(LoadEvent{Loaded: true, Source: e.source, Revision: p.revision}) // events.go
}

func (e *Engine) reject(rev string, err error) error {
	e.mu.Lock()
	e.status.Source = e.source
	e.status.Rejected = &Rejection{Revision: rev, At: time.Now(), Error: err.Error()}
	serving := e.status.Revision
	e.mu.Unlock()
	e.instrument.loaded(context.Background(), "rejected")
	if serving == "" {
		// At startup: nothing serves, and the caller fails.
		e.log.Error("policy rejected; no revision is loaded", "source", e.source, "rejected_revision", rev, "error", err.Error())
	} else {
		e.log.Error("policy rejected; the previous revision keeps serving",
			"source", e.source, "rejected_revision", rev, "serving_revision", serving, "error", err.Error())
	}
	e.notifyLoad(LoadEvent{Source: e.source, Revision: rev, Error: err.Error()}) // events.go
	return err
}

func (e *Engine) clearRejection() {
	e.mu.Lock()
	e.status.Rejected = nil
	e.mu.Unlock()
}

// instruments are the engine's OpenTelemetry metrics. Attributes are
// low-cardinality and never carry PHI.
type instruments struct {
	loads     metric.Int64Counter
	decisions metric.Int64Counter
	// decidedAttrs are the attribute sets of decisions, built once:
	// [effect][cached], each a slice of its own so that Add, given it
	// with ..., allocates no slice per decision.
	decidedAttrs map[string][2][]metric.AddOption
}

func newInstruments() *instruments {
	m := otel.Meter("github.com/ds4p/ds4p/policy")
	loads, _ := m.Int64Counter("ds4p.policy.loads",
		metric.WithDescription("policy revisions loaded or rejected, by result"))
	decisions, _ := m.Int64Counter("ds4p.policy.decisions",
		metric.WithDescription("policy decisions by effect and whether the cross-request cache answered"))
	i := &instruments{loads: loads, decisions: decisions, decidedAttrs: map[string][2][]metric.AddOption{}}
	for _, effect := range []string{Permit, Deny, Redact, Mask} {
		i.decidedAttrs[effect] = [2][]metric.AddOption{
			{metric.WithAttributeSet(attribute.NewSet(attribute.String("effect", effect), attribute.Bool("cached", false)))},
			{metric.WithAttributeSet(attribute.NewSet(attribute.String("effect", effect), attribute.Bool("cached", true)))},
		}
	}
	return i
}

func (i *instruments) loaded(ctx context.Context, result string) {
	i.loads.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
}

func (i *instruments) decided(ctx context.Context, effect string, cached bool) {
	opts, ok := i.decidedAttrs[effect]
	if !ok {
		return
	}
	c := 0
	if cached {
		c = 1
	}
	i.decisions.Add(ctx, 1, opts[c]...)
}
