package main

import (
	"strings"
	"testing"
)

// TestOTelEndpointsAmbiguousCredentials (QA round 22, area B): an OTLP
// endpoint whose password holds an unescaped "/" parses as host "tenant",
// port 12 and a path holding the rest of the password and the collector:
// redactEndpoint found no userinfo to redact and logged the endpoint
// whole, with every export error. Such an endpoint is now withheld, as the
// edge and the verifier withhold it (urltext.URL). Not parallel: it sets
// environment variables.
func TestOTelEndpointsAmbiguousCredentials(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://tenant:12/s3cretPW@collector.example:4318")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://tenant:s3cretPW@collector.example:4318/v1/traces?api-key=s3cretKey")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "tenant:s3cretPW@collector.example:4318")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
	got := otelEndpoints()
	want := "OTEL_EXPORTER_OTLP_ENDPOINT=(URL withheld) OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://collector.example:4318/v1/traces?(query withheld) OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=(URL withheld)"
	if got != want || strings.Contains(got, "s3cret") {
		t.Errorf("endpoints logged as\n%s\nwant\n%s", got, want)
	}
	if err := checkOTelEndpoints(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("checkOTelEndpoints: %v", err)
	}
}
