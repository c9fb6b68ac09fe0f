// Package medplum runs a real FHIR R4 server for ds4p's end-to-end tests: Medplum's FHIR router
// over its in-memory repository, behind the small Node launcher server.mjs beside this file.
//
// Start installs the launcher's npm dependencies on first use (install.sh: Medplum and a Node 22
// binary from the npm registry), launches it on a free loopback port, waits until it answers
// /metadata, and stops it when the test ends. Each Server is empty and independent.
//
//	srv := medplum.Start(t)
//	srv.Put(t, []byte(`{"resourceType":"Patient","id":"p1"}`))
//	resp, err := http.Get(srv.BaseURL + "/Patient/p1")
//
// It needs bash and, for the first install, npm on PATH. The package imports only the standard
// library, so tests anywhere in the module can use it.
package medplum

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// nodeBinary is the Node 22 the npm package `node` installs, relative to the package dir.
	nodeBinary = "node_modules/node/bin/node"
	// listeningPrefix starts the one line server.mjs prints on stdout once it listens.
	listeningPrefix = "LISTENING "

	installTimeout = 10 * time.Minute
	startTimeout   = 60 * time.Second
	stopTimeout    = 5 * time.Second
	requestTimeout = 2 * time.Minute
	putConcurrency = 4
	stderrLimit    = 64 << 10
)

// Server is a running test FHIR server.
type Server struct {
	// BaseURL is the FHIR base URL, http://127.0.0.1:PORT/fhir/R4, without a trailing slash.
	BaseURL string

	client *http.Client
}

// Option configures Start.
type Option func(*options)

type options struct {
	gzip, gzipAlways bool
}

// WithGzip makes the server gzip its responses to requests that send Accept-Encoding: gzip.
// Without it the server never compresses.
func WithGzip() Option {
	return func(o *options) { o.gzip = true }
}

// WithGzipAlways makes the server gzip every response body, asked or not, as some servers
// and gateways do. ds4p asks its upstream for no compression, so this is how a test keeps
// the proxy's gzip decoding in play.
func WithGzipAlways() Option {
	return func(o *options) { o.gzipAlways = true }
}

// install runs install.sh at most once per test binary; concurrent test binaries are
// serialised by install.sh's own lock.
var install struct {
	once sync.Once
	err  error
}

// Start installs (runs install.sh if needed), launches the server on a free port, waits until
// it prints LISTENING and /metadata answers, and registers t.Cleanup to kill it (process
// group). It fails the test (t.Fatalf) with the server's stderr if it cannot start.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir, err := packageDir()
	if err != nil {
		t.Fatalf("medplum: %v", err)
	}
	install.once.Do(func() { install.err = runInstall(dir) })
	if install.err != nil {
		t.Fatalf("medplum: %v", install.err)
	}
	p, err := launch(dir, o)
	if err != nil {
		t.Fatalf("medplum: starting the test FHIR server: %v", err)
	}
	t.Cleanup(p.stop)
	s := &Server{BaseURL: p.baseURL, client: newClient()}
	t.Cleanup(s.client.CloseIdleConnections)
	if err := s.waitForMetadata(p); err != nil {
		t.Fatalf("medplum: test FHIR server at %s: %v\nstderr:\n%s", s.BaseURL, err, p.stderr)
	}
	return s
}

// Put loads resources with PUT BaseURL/Type/id (JSON bytes with resourceType and id); bounded
// concurrency 4; fails on any non-2xx.
func (s *Server) Put(t testing.TB, resources ...[]byte) {
	t.Helper()
	errs := make([]error, len(resources))
	sem := make(chan struct{}, putConcurrency)
	var wg sync.WaitGroup
	for i, body := range resources {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = s.put(body)
		}()
	}
	wg.Wait()
	if err := summarize(errs); err != nil {
		t.Fatalf("medplum: Put: %v", err)
	}
}

func (s *Server) put(body []byte) error {
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("resource is not JSON: %w", err)
	}
	if head.ResourceType == "" || head.ID == "" {
		return fmt.Errorf("resource needs resourceType and id, got %q/%q", head.ResourceType, head.ID)
	}
	target := s.BaseURL + "/" + url.PathEscape(head.ResourceType) + "/" + url.PathEscape(head.ID)
	req, err := http.NewRequest(http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", target, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("PUT %s: %s: %s", target, resp.Status, msg)
	}
	return nil
}

// summarize joins the first few errors and counts the rest.
func summarize(errs []error) error {
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	const shown = 5
	if len(failed) > shown {
		failed = append(failed[:shown], fmt.Errorf("and %d more failures", len(failed)-shown))
	}
	return errors.Join(failed...)
}

func (s *Server) waitForMetadata(p *process) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.getMetadata()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited (%v) before /metadata answered: %w", p.waitErr, err)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) getMetadata() error {
	resp, err := s.client.Get(s.BaseURL + "/metadata")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /metadata: %s", resp.Status)
	}
	return nil
}

func newClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2 * putConcurrency
	return &http.Client{Transport: transport, Timeout: requestTimeout}
}

// packageDir finds the directory holding server.mjs: beside this source file, or, when the
// binary was built with -trimpath, test/medplum under the module root above the working
// directory (go test runs in the package being tested).
func packageDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if dir := filepath.Dir(file); hasServer(dir) {
			return dir, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding test/medplum: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if candidate := filepath.Join(dir, "test", "medplum"); hasServer(candidate) {
			return candidate, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("finding test/medplum: no test/medplum/server.mjs above %s", wd)
		}
	}
}

func hasServer(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "server.mjs"))
	return err == nil
}

func runInstall(dir string) error {
	bash, err := exec.LookPath("bash")
	if err != nil {
		return fmt.Errorf("bash not found on PATH; it runs test/medplum/install.sh: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, filepath.Join(dir, "install.sh"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("installing the test FHIR server (test/medplum/install.sh) failed: %w\n"+
			"It needs Node.js and npm on PATH (CI installs them) and the npm registry.\n%s", err, tail(out, 8<<10))
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// process is a running server.mjs.
type process struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *limitedBuffer
	baseURL string
	exited  chan struct{} // closed once Wait has returned
	waitErr error         // set before exited is closed
}

func launch(dir string, o options) (*process, error) {
	args := []string{"server.mjs", "--port", "0", "--exit-on-stdin-close"}
	if o.gzip {
		args = append(args, "--gzip")
	}
	if o.gzipAlways {
		args = append(args, "--gzip-always")
	}
	node := filepath.Join(dir, nodeBinary)
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	setProcessGroup(cmd)
	// The server exits when this pipe closes, so it dies with the test binary even when
	// t.Cleanup never runs (a test timeout, a crash).
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	listening := make(chan string, 1)
	cmd.Stdout = &lineWatcher{found: listening}
	p := &process{cmd: cmd, stdin: stdin, stderr: &limitedBuffer{limit: stderrLimit}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", node, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.baseURL = <-listening:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("exited (%v) before LISTENING\nstderr:\n%s", p.waitErr, p.stderr)
	case <-time.After(startTimeout):
		p.stop()
		return nil, fmt.Errorf("no LISTENING line within %s\nstderr:\n%s", startTimeout, p.stderr)
	}
}

// stop ends the server's process group: SIGTERM, then SIGKILL if it lingers.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	terminate(p.cmd)
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		kill(p.cmd)
		<-p.exited
	}
}

// lineWatcher is the server's stdout: it reports the URL on the first LISTENING line.
type lineWatcher struct {
	mu    sync.Mutex
	buf   []byte
	found chan<- string
	done  bool
}

func (w *lineWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	for {
		line, rest, ok := bytes.Cut(w.buf, []byte("\n"))
		if !ok {
			return len(b), nil
		}
		w.buf = rest
		if text := strings.TrimSpace(string(line)); strings.HasPrefix(text, listeningPrefix) {
			w.found <- strings.TrimPrefix(text, listeningPrefix)
			w.done, w.buf = true, nil
			return len(b), nil
		}
	}
}

// limitedBuffer keeps the first limit bytes written to it, for error messages.
type limitedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (l *limitedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.limit - l.buf.Len(); room > 0 {
		l.buf.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
