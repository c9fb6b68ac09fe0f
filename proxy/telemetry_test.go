package proxy

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestSpansCarryNoPHI records every span of requests whose path and query
// name a patient and checks that no attribute, name or event repeats them.
// Not parallel: it installs the global tracer provider.
func TestSpansCarryNoPHI(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

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
