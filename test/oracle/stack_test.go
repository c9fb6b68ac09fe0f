package oracle

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/servetest"
	"github.com/ds4p/ds4p/internal/synth"
)

// buildOnce builds the ds4p binary once per test binary.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the directory buildBinary built the binary into: each
// run left a 70 MB binary in /tmp, and the runs filled it (127 such
// directories on the development machine).
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" && os.Getenv("DS4P_ORACLE_BIN") == "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// buildBinary builds ./cmd/ds4p, or uses the binary DS4P_ORACLE_BIN names.
func buildBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("DS4P_ORACLE_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ds4p-oracle-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ds4p")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/ds4p")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building ds4p: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proxy is one running `ds4p serve` on its own bbolt file.
type proxy struct {
	bin, data, base string
	admin           string
	logs            *tailLog
}

// startProxy runs ds4p serve in front of upstream with the synthetic
// data's Part 2 program configured, as a deployment would.
func startProxy(t *testing.T, bin, upstream string, streamAll bool) *proxy {
	t.Helper()
	work := t.TempDir()
	p := &proxy{bin: bin, data: filepath.Join(work, "data")}
	cfg := `labels:
  part2_programs:
    - name: riverside-recovery
      references: ["` + synth.Part2OrgRef + `", "` + synth.Part2PractitionerRef + `", "Location/part2-clinic-site"]
      identifiers: ["http://hl7.org/fhir/sid/us-npi|` + synth.Part2NPI + `"]
      sources: ["` + synth.Part2Source + `"]
`
	if streamAll {
		cfg += "limits:\n  stream_above_bytes: 1\n"
	}
	cfgPath := filepath.Join(work, "ds4p.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--upstream", upstream,
		"--data", p.data, "--dev-auth", "--log-level", "warn")
	cmd.Env = append(childEnv(), "OTEL_SDK_DISABLED=true")
	stderr, _ := cmd.StderrPipe()
	logs := &tailLog{}
	p.logs = logs
	go drain(stderr, logs)
	proc, err := servetest.Start(cmd, 30*time.Second, nil)
	if err != nil {
		t.Fatalf("ds4p serve: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() { proc.Stop(5 * time.Second) })
	p.base = proc.Base
	p.admin = p.token(t, "--sub", "oracle-admin", "--org", "Organization/ops", "--scope", "ds4p/consent-manager")
	return p
}

// childEnv is the test's environment without the oracle's own DS4P_ORACLE_*
// settings, which ds4p would reject as unknown DS4P_ variables.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DS4P_ORACLE_") {
			env = append(env, kv)
		}
	}
	return env
}

// token mints a development token with `ds4p token`.
func (p *proxy) token(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(p.bin, append([]string{"token", "--data", p.data}, args...)...)
	cmd.Env = childEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ds4p token %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// answer is one response from the proxy.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

var client = &http.Client{Timeout: 60 * time.Second}

func (p *proxy) do(t *testing.T, method, url, token, contentType string, body []byte) answer {
	t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = p.base + url
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nds4p log:\n%s", method, url, err, p.logs.String())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, url, err)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// drain copies ds4p's log: error lines to the test's stderr, the last
// lines to tail for a failed start.
func drain(r io.Reader, tail *tailLog) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for s.Scan() {
		tail.add(s.Text())
		if strings.Contains(s.Text(), `"level":"ERROR"`) {
			fmt.Fprintln(os.Stderr, "ds4p:", s.Text())
		}
	}
}

// tailLog keeps the last lines of a log.
type tailLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *tailLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > 20 {
		l.lines = l.lines[1:]
	}
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
