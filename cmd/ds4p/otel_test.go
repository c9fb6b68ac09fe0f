package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
)

// otlpReceiver is an OTLP/HTTP endpoint of one signal: it keeps the
// protobuf body of every POST to path (default /v1/logs) and answers 200
// with an empty response.
type otlpReceiver struct {
	path   string
	mu     sync.Mutex
	bodies [][]byte
	bad    []string
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	r.mu.Lock()
	defer r.mu.Unlock()
	path := r.path
	if path == "" {
		path = "/v1/logs"
	}
	if req.Method != http.MethodPost || req.URL.Path != path || req.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		r.bad = append(r.bad, req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Type"))
		http.Error(w, "not an OTLP/HTTP export to "+path, http.StatusBadRequest)
		return
	}
	r.bodies = append(r.bodies, b)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// received returns the number of requests and their bodies joined.
func (r *otlpReceiver) received() (int, []byte, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies), bytes.Join(r.bodies, nil), append([]string(nil), r.bad...)
}

// TestSIEMOTelExportReachesOTLPReceiver runs the SIEM export with
// siem.otel on and patient_ids: hash, wired as serve wires it (the
// LoggerProvider from setupSIEMLogs, the exporter from openProtection),
// against a local OTLP/HTTP receiver: a ledger entry and a security event
// arrive as log records, flushed by the provider's shutdown, and the
// patient id appears in no record.
func TestSIEMOTelExportReachesOTLPReceiver(t *testing.T) {
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
	// A schedule delay far beyond the test: the records can only arrive
	// through the shutdown flush that serve defers.
	t.Setenv("OTEL_BLRP_SCHEDULE_DELAY", "600000")

	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.SIEM.OTel = true
	cfg.SIEM.PatientIDs = siem.PatientIDsHash
	cfg.SIEM.Interval = 20 * time.Millisecond
	if errs := cfg.SIEM.validate(); len(errs) > 0 {
		t.Fatal(errs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shutdownLogs, err := setupSIEMLogs(ctx, cfg.SIEM)
	if err != nil {
		t.Fatal(err)
	}
	db, ledger := openTestLedger(t, filepath.Join(cfg.DataDir, DBFile))
	p, err := openProtection(ctx, cfg, db, ledger, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}

	const patientID = "pat-otel-secret-4711"
	entry := audit.Entry{
		RequestID: "req-otel-1", Caller: audit.Party{Subject: "alice", Org: "Organization/a"},
		Purposes: []string{"TREAT"}, Patient: "Patient/" + patientID, Interaction: "read",
		Query:     "/fhir/Patient/" + patientID,
		Disclosed: []audit.Item{{Type: "Patient", ID: patientID, Version: "1"}},
	}
	if err := p.ledger(ledger).Append(ctx, entry); err != nil {
		t.Fatal(err)
	}
	if err := p.events().Emit(siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning,
		RequestID: "req-otel-2", Reason: "token expired"}); err != nil {
		t.Fatal(err)
	}

	// The exporter acknowledges once the sink took both records.
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur, err := p.queue.Cursor()
		if err != nil {
			t.Fatal(err)
		}
		if cur.Ledger >= 1 && cur.Events >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SIEM exporter did not acknowledge the records: cursor %+v", cur)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _, _ := recv.received(); n != 0 {
		t.Logf("%d export requests before shutdown (the schedule delay was not honoured)", n)
	}
	cancel() // stops the SIEM exporter, as the end of serve does

	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := shutdownLogs(sctx); err != nil {
		t.Fatalf("shutdown (flush) of the log provider: %v", err)
	}

	n, body, bad := recv.received()
	t.Logf("OTLP receiver: %d requests, %d bytes", n, len(body))
	if len(bad) > 0 {
		t.Fatalf("requests that are not OTLP/HTTP logs exports: %q", bad)
	}
	if n == 0 {
		t.Fatal("no OTLP/HTTP logs export reached the receiver")
	}
	for _, want := range []string{
		"ds4p.security." + siem.KindTokenRefused, // event name of the security event
		siem.KindTokenRefused, "ds4p.siem.stream", siem.StreamLedger, "req-otel-1", "req-otel-2", "token expired",
		"service.name", "ds4p", // the resource
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the exported records do not contain %q", want)
		}
	}
	if bytes.Contains(body, []byte(patientID)) {
		t.Errorf("the patient id %q reached the OTel records with patient_ids: hash", patientID)
	}
}

// TestSIEMOTelNeedsEndpoint: siem.otel on without an OTLP endpoint is a
// configuration error naming the variables, not a silent no-op; off, no
// provider is needed.
func TestSIEMOTelNeedsEndpoint(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
	_, err := setupSIEMLogs(context.Background(), SIEMConfig{OTel: true})
	if !errors.Is(err, errSIEMOTelEndpoint) {
		t.Fatalf("siem.otel without an endpoint: err = %v", err)
	}
	for _, want := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://127.0.0.1:1/v1/logs")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if _, err := setupSIEMLogs(context.Background(), SIEMConfig{OTel: true}); err == nil {
		t.Fatal("siem.otel with OTEL_SDK_DISABLED=true was accepted")
	}
	shutdown, err := setupSIEMLogs(context.Background(), SIEMConfig{})
	if err != nil {
		t.Fatalf("siem.otel off: %v", err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsReachOTLPReceiver: with an OTLP endpoint set, serve's
// telemetry exports metrics; a ledger append records how long it waited for
// durability (ds4p.ledger.append.duration), flushed by the shutdown.
func TestMetricsReachOTLPReceiver(t *testing.T) {
	recv := &otlpReceiver{path: "/v1/metrics"}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "3600000") // only the shutdown flush
	shutdown, err := setupTelemetry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, led := openTestLedger(t, filepath.Join(t.TempDir(), "ds4p.db"))
	if err := led.Append(context.Background(), audit.Entry{RequestID: "r1", Patient: "Patient/p1", Interaction: "read", Caller: audit.Party{Org: "Organization/x"}, Disclosed: []audit.Item{{Type: "Observation", ID: "o1", Version: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, body, bad := recv.received()
	if len(bad) > 0 || n == 0 {
		t.Fatalf("%d exports, refused: %v", n, bad)
	}
	if !bytes.Contains(body, []byte("ds4p.ledger.append.duration")) {
		t.Fatal("the export holds no ds4p.ledger.append.duration")
	}
	if bytes.Contains(body, []byte("Patient/p1")) {
		t.Fatal("a patient id reached the metrics")
	}
}

// With no endpoint, or OTEL_METRICS_EXPORTER=none, nothing is exported and
// setup succeeds.
func TestMetricsOffWithoutEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	if !signalOnFor(t, "METRICS", "http://127.0.0.1:1") {
		t.Fatal("an endpoint did not turn metrics on")
	}
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	if signalOnFor(t, "METRICS", "http://127.0.0.1:1") {
		t.Fatal("OTEL_METRICS_EXPORTER=none left metrics on")
	}
}

func signalOnFor(t *testing.T, signal, endpoint string) bool {
	t.Setenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT", endpoint)
	defer t.Setenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT", "")
	return signalOn(signal)
}

// openTestLedger opens the bbolt file at path and its ledger, closed when
// the test ends.
func openTestLedger(t *testing.T, path string) (*bbolt.DB, *audit.Ledger) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	led, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return db, led
}

// TestTelemetryOnDecidesTheEdgeMiddleware: serve leaves out the edge's
// OpenTelemetry middleware exactly when setupTelemetry exports nothing.
// Not parallel: it sets environment variables.
func TestTelemetryOnDecidesTheEdgeMiddleware(t *testing.T) {
	for _, v := range []string{"OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER"} {
		t.Setenv(v, "")
	}
	c, err := loadConfig([]string{"--upstream", "http://x/fhir", "--dev-auth"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:4318/v1/metrics"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, false},
	}
	for _, tc := range cases {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		o, err := c.proxyOptions()
		if err != nil {
			t.Fatal(err)
		}
		if telemetryOn() != tc.want || o.NoEdgeTelemetry == tc.want {
			t.Errorf("%v: telemetryOn %v, NoEdgeTelemetry %v; want telemetry %v", tc.env, telemetryOn(), o.NoEdgeTelemetry, tc.want)
		}
		for k := range tc.env {
			t.Setenv(k, "")
		}
	}
}

// TestOTelErrorsLoggedAsJSONAtMostOnceAMinute: SDK errors go to the JSON
// log with the endpoints, quoted text withheld, and are not repeated within
// a minute (the exporters retry about every second).
func TestOTelErrorsLoggedAsJSONAtMostOnceAMinute(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	var buf bytes.Buffer
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	h := &otelErrors{log: slog.New(slog.NewJSONHandler(&buf, nil)), now: func() time.Time { return now }}
	for range 5 {
		h.Handle(errors.New(`traces export: Post "http://127.0.0.1:4318/v1/traces": connection refused`))
	}
	now = now.Add(61 * time.Second)
	h.Handle(errors.New("metrics export: connection refused"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `"endpoint":"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318"`) || !strings.Contains(lines[0], "(quoted text withheld)") ||
		strings.Contains(lines[0], "/v1/traces") || !strings.Contains(lines[1], `"similar_errors_since_last":4`) {
		t.Fatalf("log:\n%s", buf.String())
	}
}

// TestOTelEndpointMustBeAURL: an OTLP endpoint that is not an absolute
// http(s) URL stops serve at startup with the variable named, rather than
// failing every export.
func TestOTelEndpointMustBeAURL(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")
	if _, err := setupTelemetry(t.Context()); err == nil || !strings.Contains(err.Error(), `OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" is not an absolute http(s) URL`) {
		t.Fatalf("setupTelemetry: %v", err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	if err := checkOTelEndpoints(); err != nil {
		t.Fatalf("a good endpoint refused: %v", err)
	}
}

// TestOTelEndpointCredentialsNotLogged: the export-failure log line named
// the endpoint variables as set, and a collector's URL can carry
// credentials in its userinfo or query (QA round 17); so could the startup
// refusal of an endpoint that is no http(s) URL.
func TestOTelEndpointCredentialsNotLogged(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://tenant:s3cret-pw@collector.example:4318/otlp?api-key=s3cret-key#s3cret-frag")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "")
	var buf bytes.Buffer
	h := &otelErrors{log: slog.New(slog.NewJSONHandler(&buf, nil)), now: time.Now}
	h.Handle(errors.New("traces export: connection refused"))
	got := buf.String()
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "collector.example:4318/otlp") || !strings.Contains(got, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4318/v1/traces") {
		t.Errorf("log: %s", got)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://tenant:s3cret-pw@collector.example/?k=s3cret")
	if err := checkOTelEndpoints(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("checkOTelEndpoints: %v", err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "tenant:s3cret-pw@collector.example:4318")
	if err := checkOTelEndpoints(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("checkOTelEndpoints: %v", err)
	}
}
