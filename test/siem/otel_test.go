package siem

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/fhirmem"
	"github.com/ds4p/ds4p/internal/servetest"
)

const otelPatient = "otel-patient-9f3e2c"

// TestSIEMOTelLogsFromServe runs the built binary with siem.otel on and
// patient_ids: hash against a local OTLP/HTTP logs receiver: a disclosure
// (ledger stream) and a refused token (security stream) arrive as
// OpenTelemetry log records, serve stops cleanly on SIGTERM, and the
// patient id is in no request the receiver got. Without an endpoint serve
// refuses to start.
func TestSIEMOTelLogsFromServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ds4p binary")
	}
	bin := buildDS4P(t)
	var mu sync.Mutex
	var bodies [][]byte
	var bad []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rd = zr
		}
		b, err := io.ReadAll(rd)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
			bad = append(bad, r.Method+" "+r.URL.Path)
			http.Error(w, "not an OTLP/HTTP logs export", http.StatusBadRequest)
			return
		}
		bodies = append(bodies, b)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer recv.Close()
	received := func() (int, []byte) {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies), bytes.Join(bodies, nil)
	}

	fhir := fhirmem.New("/fhir")
	if err := fhir.Load([]byte(`{"resourceType":"Patient","id":"`+otelPatient+`"}`),
		[]byte(`{"resourceType":"Observation","id":"obs-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},`+
			`"subject":{"reference":"Patient/`+otelPatient+`"}}`)); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(fhir)
	defer up.Close()

	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "ds4p.yaml")
	if err := os.WriteFile(cfg, []byte("siem:\n  otel: true\n  patient_ids: hash\n  interval: 100ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := mint(t, bin, data, "alice", "Organization/a")

	env := []string{"OTEL_SDK_DISABLED=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}
	// Without an endpoint: a clear startup error, not a silent no-op.
	noEndpoint := serveCmd(bin, data, cfg, up.URL+"/fhir", append(env, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT="))
	noEndpoint.Args = append(noEndpoint.Args, "--listen", "127.0.0.1:0")
	out, err := noEndpoint.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
		t.Fatalf("serve with siem.otel and no endpoint: err %v, output %s", err, out)
	}

	cmd := serveCmd(bin, data, cfg, up.URL+"/fhir", append(env, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT="+recv.URL+"/v1/logs",
		"OTEL_BLRP_SCHEDULE_DELAY=100"))
	cmd.Stderr = os.Stderr
	sp, err := servetest.Start(cmd, 20*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Kill)
	base := sp.Base
	if st, body, _ := do(http.DefaultClient, base+"/fhir/Observation?patient="+otelPatient, token, "otel-read-1"); st != 200 || !strings.Contains(body, "obs-1") {
		t.Fatalf("read: %d %s", st, body)
	}
	if st, _, _ := do(http.DefaultClient, base+"/fhir/Observation?patient="+otelPatient, "not-a-token", "otel-refused-1"); st != 401 {
		t.Fatalf("bad token: %d", st)
	}

	wants := []string{"ds4p.ledger.", "ds4p.security.token_refused", "otel-read-1", "otel-refused-1", "hmac-sha256:", "ds4p.siem.seq"}
	missing := func(body []byte) []string {
		var m []string
		for _, w := range wants {
			if !bytes.Contains(body, []byte(w)) {
				m = append(m, w)
			}
		}
		return m
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := received()
		if len(missing(body)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OTel records missing %q after 20 s", missing(body))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := sp.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := sp.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}
	n, body := received()
	t.Logf("OTLP receiver: %d requests, %d bytes", n, len(body))
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("requests that are not OTLP/HTTP logs exports: %q", bad)
	}
	if bytes.Contains(body, []byte(otelPatient)) {
		t.Errorf("the patient id %q reached the OTel records with patient_ids: hash", otelPatient)
	}
}

func serveCmd(bin, data, cfg, upstream string, env []string) *exec.Cmd {
	cmd := exec.Command(bin, "serve", "--config", cfg, "--upstream", upstream, "--data", data,
		"--dev-auth", "--log-level", "error")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
