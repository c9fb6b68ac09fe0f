package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestHostHeaderNotInTelemetry: the Host header is the caller's and
// unauthenticated; otelgin took server.port from it, and built the metrics'
// attributes from the request restored after the handlers. ~2,000 requests
// with "Host: x:N" filled the SDK's per-instrument series limit and a
// legitimate request's series was folded into the overflow point (QA round
// 17). The edge's telemetry sees the configured public base's host, or
// none. Not parallel: it sets the global meter and tracer providers.
func TestHostHeaderNotInTelemetry(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	rec := recordSpans(t)
	h := newHarness(t, fhirJSONHandler(200, sudCondition), func(o *Options, _ *Deps) {
		o.PublicBaseURL = "https://fhir.example.org/fhir"
	})
	client := &http.Client{}
	for i := 1; i <= 2100; i++ {
		req, _ := http.NewRequest("GET", h.proxy.URL+"/healthz", nil)
		req.Host = fmt.Sprintf("ds4p.example:%d", 1000+i)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	h.get("/fhir/Condition/sud1", tokConsented, "Host", "x.example:31337")
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			seen = true
			hist := m.Data.(metricdata.Histogram[float64])
			fhirRoute := false
			for _, dp := range hist.DataPoints {
				if v, ok := dp.Attributes.Value("server.port"); ok {
					t.Errorf("server.port %s on a metric", v.Emit())
				}
				if v, ok := dp.Attributes.Value("http.route"); ok && v.AsString() == "/fhir/*path" {
					fhirRoute = true
				}
				if _, ok := dp.Attributes.Value("otel.metric.overflow"); ok {
					t.Error("the series overflowed")
				}
			}
			if len(hist.DataPoints) > 10 {
				t.Errorf("%d series", len(hist.DataPoints))
			}
			if !fhirRoute {
				t.Error("the /fhir request has no series of its own")
			}
		}
	}
	if !seen {
		t.Fatal("no http.server.request.duration metric")
	}
	for _, text := range spanTexts(rec) {
		if strings.Contains(text, "31337") || strings.Contains(text, "ds4p.example") {
			t.Errorf("span carries the caller's Host: %s", text)
		}
	}
}

// TestForwardedForNotBelieved: gin trusted every caller's X-Forwarded-For
// as its client address, which otelgin puts on the server span as
// client.address: any caller could write what it liked there. No caller is
// a trusted proxy. Not parallel: it records the global tracer provider's
// spans.
func TestForwardedForNotBelieved(t *testing.T) {
	rec := recordSpans(t)
	h := newHarness(t, fhirJSONHandler(200, sudCondition))
	h.get("/fhir/Condition/sud1", tokConsented, "X-Forwarded-For", "203.0.113.9", "X-Real-IP", "203.0.113.10")
	server := false
	for _, text := range spanTexts(rec) {
		if strings.HasPrefix(text, "GET /fhir/*path") {
			server = true
			if !strings.Contains(text, "client.address=127.0.0.1") {
				t.Errorf("client.address is not the connection's: %s", text)
			}
		}
		if strings.Contains(text, "203.0.113.") {
			t.Errorf("span believes the caller's forwarding header: %s", text)
		}
	}
	if !server {
		t.Error("no server span")
	}
}
