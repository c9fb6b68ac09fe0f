package proxy

import (
	"context"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// spanTap is the span processor of the global tracer provider the tests
// install once: the packages' tracers, taken from the global provider when
// they were initialised, keep delegating to the first provider set, so a
// second run (-count=2) must record through the same one. rec is the
// recorder of the running test (nil: spans are dropped).
type spanTap struct {
	mu  sync.Mutex
	rec *tracetest.SpanRecorder
}

func (s *spanTap) current() *tracetest.SpanRecorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec
}

func (s *spanTap) OnStart(ctx context.Context, sp sdktrace.ReadWriteSpan) {
	if r := s.current(); r != nil {
		r.OnStart(ctx, sp)
	}
}

func (s *spanTap) OnEnd(sp sdktrace.ReadOnlySpan) {
	if r := s.current(); r != nil {
		r.OnEnd(sp)
	}
}

func (s *spanTap) Shutdown(context.Context) error   { return nil }
func (s *spanTap) ForceFlush(context.Context) error { return nil }

var (
	tap        = &spanTap{}
	installTap sync.Once
)

// recordSpans records the spans ended until the test ends.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	installTap.Do(func() { otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tap))) })
	rec := tracetest.NewSpanRecorder()
	tap.mu.Lock()
	tap.rec = rec
	tap.mu.Unlock()
	t.Cleanup(func() {
		tap.mu.Lock()
		tap.rec = nil
		tap.mu.Unlock()
	})
	return rec
}

// TestSpansCarryNoPHI records every span of requests whose path and query
// name a patient and checks that no attribute, name or event repeats them.
// Not parallel: it records the spans of the global tracer provider.
func TestSpansCarryNoPHI(t *testing.T) {
	rec := recordSpans(t)

	h := newHarness(t, fhirJSONHandler(200, sudCondition))
	h.get("/fhir/Condition/sud1?patient=Patient/p1&name=Smithers", tokOther)
	h.get("/fhir/Condition/sud1?patient=Patient/p1&name=Smithers", tokConsented)
	spans := rec.Ended()
	names := map[string]bool{}
	for _, s := range spans {
		names[s.Name()] = true
		var all []string
		for _, a := range s.Attributes() {
			all = append(all, string(a.Key)+"="+a.Value.Emit())
		}
		for _, e := range s.Events() {
			all = append(all, e.Name)
			for _, a := range e.Attributes {
				all = append(all, a.Value.Emit())
			}
		}
		text := s.Name() + " " + strings.Join(all, " ")
		for _, phi := range []string{"sud1", "Smithers", "Patient/p1", "F11.20", "Bearer", tokOther} {
			if strings.Contains(text, phi) {
				t.Errorf("span %q carries %q: %s", s.Name(), phi, text)
			}
		}
	}
	for _, want := range []string{"GET /fhir/*path", "proxy.pipeline.process", "proxy.pipeline.labelItems", "policy.Engine.Decide", "proxy.pipeline.record"} {
		if !names[want] {
			t.Errorf("no span %q among %v", want, names)
		}
	}
}

// TestNoEdgeTelemetry: without the edge middleware (a process exporting
// nothing) requests are served and logged as before, and no server span
// is made. Not parallel: it records the spans of the global tracer
// provider.
func TestNoEdgeTelemetry(t *testing.T) {
	rec := recordSpans(t)
	h := newHarness(t, fhirJSONHandler(200, sudCondition), func(o *Options, _ *Deps) { o.NoEdgeTelemetry = true })
	resp, body := h.get("/fhir/Condition/sud1?patient=Patient/p1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"resourceType":"Condition"`) {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id without the edge telemetry")
	}
	names := map[string]bool{}
	for _, s := range rec.Ended() {
		names[s.Name()] = true
	}
	if names["GET /fhir/*path"] {
		t.Errorf("a server span was made with NoEdgeTelemetry: %v", names)
	}
	if !names["proxy.pipeline.process"] {
		t.Errorf("the pipeline's spans are gone too: %v", names)
	}
}
