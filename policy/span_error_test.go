package policy

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestDecisionSpanCarriesNoInput: a decision whose evaluation fails in a
// built-in (strict built-in errors) records a fixed kind on its span, never
// the error's text, which quotes the input: a patient's data. QA round 17.
// Not parallel: it sets the global tracer provider.
func TestDecisionSpanCarriesNoInput(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	// The global provider cannot be taken back: tracers got from otel's
	// default before the first SetTracerProvider delegate to the first
	// provider set, whatever is set after. So the provider samples only
	// while this test runs; later tests' spans (TestQA22CEngineOverheadAllocations
	// counts a decision's allocations) do not record.
	var on atomic.Bool
	on.Store(true)
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(whileOn{&on}), sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() {
		on.Store(false)
		otel.SetTracerProvider(prev)
	})
	const phi = "Smithers-1970-01-01"
	src := `package ds4p

decision := {"effect": "permit", "reasons": []} if to_number(input.item.type) > 0
`
	for _, ev := range []string{EvaluatorIR, EvaluatorTopdown} {
		t.Run(ev, func(t *testing.T) {
			fsys := fstest.MapFS{"ds4p/main.rego": &fstest.MapFile{Data: []byte(src)}}
			eng, err := New(context.Background(), fsys, WithEvaluator(ev), WithDecisionCache(0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = eng.Decide(context.Background(), Input{Caller: Caller{Purposes: []string{"TREAT"}}, Item: Item{Type: phi}})
			if err == nil || !strings.Contains(err.Error(), phi) {
				t.Fatalf("want an error quoting the input, got %v", err)
			}
			found := false
			for _, s := range rec.Ended() {
				if s.Name() != "policy.Engine.Decide" {
					continue
				}
				for _, e := range s.Events() {
					for _, a := range e.Attributes {
						found = true
						if v := a.Value.Emit(); strings.Contains(v, phi) {
							t.Errorf("span event %s %s=%s", e.Name, a.Key, v)
						}
					}
				}
				if strings.Contains(s.Status().Description, phi) {
					t.Errorf("span status %q", s.Status().Description)
				}
			}
			if !found {
				t.Error("the failed decision's span has no exception event")
			}
		})
	}
}

// whileOn samples every span while on holds, none after.
type whileOn struct{ on *atomic.Bool }

func (s whileOn) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if s.on.Load() {
		return sdktrace.AlwaysSample().ShouldSample(p)
	}
	return sdktrace.NeverSample().ShouldSample(p)
}

func (whileOn) Description() string { return "whileOn" }
