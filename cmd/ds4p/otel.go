package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/textcut"
	"github.com/ds4p/ds4p/internal/urltext"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// setupTelemetry installs OTLP/HTTP exporters of traces and metrics
// configured by the standard OTEL_* variables (endpoint, headers, TLS,
// OTEL_METRIC_EXPORT_INTERVAL ...), each when an endpoint for it is set
// (OTEL_EXPORTER_OTLP_ENDPOINT, or the signal's own) and it is not turned
// off (OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER or
// OTEL_METRICS_EXPORTER=none); otherwise that signal stays with the no-op
// provider. The returned func flushes and stops both.
func setupTelemetry(ctx context.Context) (func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	if !telemetryOn() {
		return noop, nil
	}
	if err := checkOTelEndpoints(); err != nil {
		return noop, err
	}
	traces := signalOn("TRACES")
	metrics := signalOn("METRICS")
	res, err := otelResource()
	if err != nil {
		return noop, err
	}
	var stops []func(context.Context) error
	shutdown := func(ctx context.Context) error {
		var errs []error
		for _, stop := range stops {
			errs = append(errs, stop(ctx))
		}
		return errors.Join(errs...)
	}
	if traces {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return noop, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		stops = append(stops, tp.Shutdown)
	}
	if metrics {
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			_ = shutdown(ctx)
			return noop, err
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)), sdkmetric.WithResource(res))
		otel.SetMeterProvider(mp)
		stops = append(stops, mp.Shutdown)
	}
	return shutdown, nil
}

// telemetryOn reports whether setupTelemetry exports traces or metrics.
func telemetryOn() bool {
	return os.Getenv("OTEL_SDK_DISABLED") != "true" && (signalOn("TRACES") || signalOn("METRICS"))
}

// signalOn reports whether the OTLP signal ("TRACES", "METRICS") has an
// endpoint and is not turned off by OTEL_<signal>_EXPORTER=none.
func signalOn(signal string) bool {
	if os.Getenv("OTEL_"+signal+"_EXPORTER") == "none" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}

// otelResource describes this process: the OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME variables, else service.name ds4p.
func otelResource() (*resource.Resource, error) {
	res, err := resource.Merge(resource.Default(), resource.Environment())
	if err != nil {
		return nil, err
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		res, _ = resource.Merge(res, resource.NewSchemaless(attribute.String("service.name", "ds4p")))
	}
	return res, nil
}

// errSIEMOTelEndpoint is returned when siem.otel is on and the records
// would have nowhere to go: the SIEM export is an audit trail, so it must
// not be silently dropped.
var errSIEMOTelEndpoint = errors.New("siem.otel is on but no OTLP endpoint is set: set OTEL_EXPORTER_OTLP_ENDPOINT " +
	"(records go to <endpoint>/v1/logs) or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (the full URL), or turn siem.otel off")

// setupSIEMLogs installs the global LoggerProvider that the siem.otel sink
// emits through: OTLP/HTTP log export configured by the standard OTEL_*
// variables (endpoint, headers, TLS, compression, OTEL_BLRP_* batching).
// With siem.otel off it installs nothing. With it on, a missing endpoint or
// OTEL_SDK_DISABLED=true is a configuration error rather than a no-op, since
// the operator asked for the audit trail in their SIEM. The returned func
// flushes the records still batched and stops the exporter; call it after
// the SIEM exporter has stopped.
func setupSIEMLogs(ctx context.Context, s SIEMConfig) (func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	if !s.OTel {
		return noop, nil
	}
	if os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return noop, errors.New("siem.otel is on but OTEL_SDK_DISABLED=true: unset it or turn siem.otel off")
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") == "" {
		return noop, errSIEMOTelEndpoint
	}
	if err := checkOTelEndpoints(); err != nil {
		return noop, err
	}
	exp, err := otlploghttp.New(ctx)
	if err != nil {
		return noop, err
	}
	res, err := otelResource()
	if err != nil {
		return noop, err
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(res))
	global.SetLoggerProvider(lp)
	return lp.Shutdown, nil
}

// otelErrors reports the OpenTelemetry SDK's errors (an unreachable
// collector, say) through the process's JSON log, at most once a minute,
// with the endpoints configured, instead of Go's plain log lines every
// second. Quoted text in the error is withheld, as for net/http's own log.
type otelErrors struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// otelErrorEvery bounds how often an SDK error is logged.
const otelErrorEvery = time.Minute

var quotedText = regexp.MustCompile(`"[^"]*"`)

func (h *otelErrors) Handle(err error) {
	h.mu.Lock()
	now := h.now()
	if !h.last.IsZero() && now.Sub(h.last) < otelErrorEvery {
		h.suppressed++
		h.mu.Unlock()
		return
	}
	suppressed := h.suppressed
	h.last, h.suppressed = now, 0
	h.mu.Unlock()
	h.log.Warn("OpenTelemetry export failed; the proxy keeps serving",
		"endpoint", otelEndpoints(), "error", otelErrorText(err),
		"similar_errors_since_last", suppressed)
}

// maxOTelErrorBytes bounds an SDK error as the log shows it.
const maxOTelErrorBytes = 512

var (
	// collectorStatus is the collector's status line before its answer:
	// the code is kept, the reason phrase is the collector's text.
	collectorStatus = regexp.MustCompile(`: (\d{3})[^\n(]*\($`)
	// partialSuccess is a collector's partial-success message ("OTLP
	// partial success: %s (%d %s rejected)"): its text is the collector's.
	partialSuccess = regexp.MustCompile(`(?s)OTLP partial success: .*\((\d+ [a-z ]+) rejected\)`)
)

// otelErrorText is an OpenTelemetry SDK error as the log may show it. The
// OTLP exporters quote the collector's answer to a refused export ("body:
// ..." and a partial success's message), which can repeat what was sent:
// a SIEM record (siem.otel) is a ledger entry naming patients, and spans
// and metrics are the proxy's own. They name the request's URL, with any
// credentials in its userinfo or query, and net/http quotes URLs. So the
// collector's words are withheld, a URL is shown without its credentials
// (urltext.Text), quoted text is withheld and the whole is bounded.
func otelErrorText(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "body: "); i >= 0 {
		head := collectorStatus.ReplaceAllString(msg[:i], ": $1 (")
		if !strings.HasSuffix(head, "(") {
			head += "("
		}
		msg = head + "the collector's answer withheld)"
	}
	msg = partialSuccess.ReplaceAllString(msg, "OTLP partial success: (the collector's message withheld; $1 rejected)")
	msg = quotedText.ReplaceAllString(msg, "(quoted text withheld)")
	return textcut.Cut(urltext.Text(msg), maxOTelErrorBytes)
}

// logSIEMFlush stops the SIEM's OpenTelemetry log export (setupSIEMLogs'
// shutdown), which flushes the records still batched, and logs a failure
// as the SDK's other errors are (otelErrorText).
func logSIEMFlush(log *slog.Logger, shutdown func(context.Context) error) {
	if err := shutdown(context.Background()); err != nil {
		log.Error("siem: flushing the OpenTelemetry log records failed", "error", otelErrorText(err))
	}
}

// otelEndpoints names the OTLP endpoints configured, without credentials
// (urltext.URL).
func otelEndpoints() string {
	var out []string
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"} {
		if v := os.Getenv(k); v != "" {
			out = append(out, k+"="+urltext.URL(v))
		}
	}
	return strings.Join(out, " ")
}

// checkOTelEndpoints refuses an OTLP endpoint that is not an absolute
// http(s) URL: the exporters would otherwise fail on every export, quietly
// but for the log.
func checkOTelEndpoints() error {
	var errs []error
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"} {
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute http(s) URL such as http://collector:4318", k, urltext.URL(v)))
		}
	}
	return errors.Join(errs...)
}
