package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	collogpb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

// echoingCollector refuses trace exports with 400 and a body that repeats
// what it was sent (as collectors' validation errors do), and accepts log
// exports in part, with a message quoting the rejected record.
func echoingCollector(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/traces":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`invalid span attribute: patient Patient/pat-qa21d named Zebediah Quuxworth`))
		case "/v1/logs":
			b, _ := proto.Marshal(&collogpb.ExportLogsServiceResponse{PartialSuccess: &collogpb.ExportLogsPartialSuccess{
				RejectedLogRecords: 1,
				ErrorMessage:       `record too large: {"patient":"Patient/pat-qa21d","query":"Patient?name=Zebediah"} (2 log records rejected)`,
			}})
			w.Header().Set("Content-Type", "application/x-protobuf")
			_, _ = w.Write(b)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOTelExportErrorsWithholdCollectorTextAndCredentials (QA round 21,
// area D): the OTLP exporters' errors, which serve logs (otelErrors, and
// the SIEM log export's final flush), carried the collector's answer
// ("body: ...", a partial success's message): a collector that echoes a
// refused SIEM record (a ledger entry) put a patient's id and a search by
// name in the process log. They name the request's URL unquoted too, which
// is shown as the endpoint is (urltext: this exporter version drops
// the userinfo itself, the rule does not depend on it). Not parallel: it
// sets environment variables.
func TestOTelExportErrorsWithholdCollectorTextAndCredentials(t *testing.T) {
	srv := echoingCollector(t)
	withCreds := strings.Replace(srv.URL, "http://", "http://tenant:s3cret-pw@", 1)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", withCreds+"/v1/traces")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", withCreds+"/v1/logs")
	ctx := context.Background()

	texp, err := otlptracehttp.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	traceErr := texp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{tracetest.SpanStub{Name: "x"}.Snapshot()})
	lexp, err := otlploghttp.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rec sdklog.Record
	rec.SetBody(attribute.StringValue("a record"))
	logErr := lexp.Export(ctx, []sdklog.Record{rec})
	if traceErr == nil || logErr == nil {
		t.Fatalf("the collector's refusals were no errors: %v, %v", traceErr, logErr)
	}
	// The exporters' own words, so that the test sees what serve logs.
	if !strings.Contains(traceErr.Error(), "Zebediah") || !strings.Contains(logErr.Error(), "pat-qa21d") {
		t.Fatalf("the exporters no longer quote the collector: %v; %v", traceErr, logErr)
	}

	var buf bytes.Buffer
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	h := &otelErrors{log: slog.New(slog.NewJSONHandler(&buf, nil)), now: func() time.Time { return now }}
	h.Handle(traceErr)
	now = now.Add(otelErrorEvery)
	h.Handle(logErr)
	logSIEMFlush(slog.New(slog.NewJSONHandler(&buf, nil)), func(context.Context) error { return errors.Join(traceErr, logErr) })
	got := buf.String()
	if n := strings.Count(got, "\n"); n != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", n, got)
	}
	for _, leak := range []string{"s3cret", "Zebediah", "pat-qa21d", "Quuxworth", "record too large"} {
		if strings.Contains(got, leak) {
			t.Errorf("the log carries %q:\n%s", leak, got)
		}
	}
	// What an operator needs stays: the status, the path, that records
	// were rejected and how many.
	for _, want := range []string{"400 (the collector's answer withheld)", "/v1/traces", "OTLP partial success: (the collector's message withheld; 1 log"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
}

// TestOTelErrorText covers the exporters' other shapes: a retryable
// refusal (429, 502, 503, 504) has the body without a URL, an unreachable
// collector a quoted URL with its query, and the text is bounded.
func TestOTelErrorText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"retry-able request failure: body: overloaded by Patient/pat-qa21d", "retry-able request failure: (the collector's answer withheld)"},
		{`traces export: Post "https://u:p4ss@c.example/v1/traces?api-key=k3y": dial tcp: connection refused`, "traces export: Post (quoted text withheld): dial tcp: connection refused"},
		{"failed to send metrics to https://u:p4ss@c.example/v1/metrics?api-key=k3y: 401 Unauthorized Zebediah (body: who is Zebediah)",
			"failed to send metrics to https://c.example/v1/metrics?(query withheld): 401 (the collector's answer withheld)"},
		{"exporter: dial tcp 10.0.0.1:4318: i/o timeout", "exporter: dial tcp 10.0.0.1:4318: i/o timeout"},
	} {
		if got := otelErrorText(errors.New(c.in)); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	if got := otelErrorText(errors.New(strings.Repeat("x", 4096))); len(got) > maxOTelErrorBytes {
		t.Errorf("%d bytes, want at most %d", len(got), maxOTelErrorBytes)
	}
}
