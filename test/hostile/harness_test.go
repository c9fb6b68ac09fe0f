// Package hostile runs ds4p as a black box (the built binary, `ds4p serve`
// on a real bbolt data directory, tokens minted by `ds4p token`, real HTTP)
// in front of a hostile upstream, and sends it hostile callers:
//
//   - TestHostileUpstream: the upstream answers with truncated, invalid,
//     duplicate-key, deeply nested or huge JSON, gzip bombs, wrong content
//     types, XML, HTML error pages, slow trickles, resets, 5xx and redirects
//     to other hosts, every body and header carrying unique canary strings.
//     Each case: no canary reaches the caller (body or headers), the caller
//     gets a FHIR OperationOutcome with a sensible status, and a good
//     request right after succeeds (the proxy is still up).
//   - TestHostileCallers: malformed URLs, path traversal and encoded
//     slashes, header smuggling over raw TCP, oversized headers and bodies,
//     forged, tampered and other callers' paging tokens, other patients with
//     a patient-scoped token, Host header games, method override headers.
//     Each case: a clear refusal, and nothing reaching the upstream that
//     should not (the upstream records every request it receives).
//
// Both suites share one upstream and one ds4p process; at the end no canary
// may appear in ds4p's log either.
package hostile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/servetest"
)

// upBase is the FHIR base path of the hostile upstream. Anything it
// receives outside it escaped the proxy's FHIR base.
const upBase = "/up/fhir"

// Limits ds4p runs with, small so that the cases run fast.
const (
	upstreamTimeout = 2 * time.Second
	maxBodyBytes    = 4 << 20
	maxRequestBody  = 1 << 20
)

// stack is the running hostile upstream and ds4p.
type stack struct {
	up      *upstream
	other   *upstream // "another host" redirects point at; must see nothing
	proxy   string    // http://127.0.0.1:PORT
	addr    string    // 127.0.0.1:PORT
	tokens  map[string]string
	proc    *servetest.Proc
	logMu   sync.Mutex
	log     bytes.Buffer
	canMu   sync.Mutex
	canarys []string // every canary put into a hostile answer
	work    string   // the temporary directory: the binary, its bbolt file, its config
}

var (
	shared     *stack
	sharedErr  error
	sharedOnce sync.Once
)

// stackFor starts (once) the upstream and ds4p, or skips in -short mode.
func stackFor(t *testing.T) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the ds4p binary")
	}
	sharedOnce.Do(func() { shared, sharedErr = startStack() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		code = max(code, shared.finish())
	}
	os.Exit(code)
}

// finish stops ds4p and checks its log: no canary may appear in it.
func (s *stack) finish() int {
	s.proc.Kill()
	// Each run built a 70 MB binary into it: left behind, the runs filled
	// /tmp (127 such directories on the development machine).
	os.RemoveAll(s.work)
	s.up.srv.Close()
	s.other.srv.Close()
	s.logMu.Lock()
	logs := s.log.String()
	s.logMu.Unlock()
	for _, c := range s.allCanaries() {
		if strings.Contains(logs, c) {
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, c) {
					fmt.Fprintf(os.Stderr, "FAIL: canary %s appears in ds4p's log:\n%s\n", c, line)
					break
				}
			}
			return 1
		}
	}
	return 0
}

func startStack() (*stack, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "ds4p-hostile-")
	if err != nil {
		return nil, err
	}
	bin := os.Getenv("HOSTILE_DS4P_BIN") // a prebuilt binary to test, else the tree's
	if bin == "" {
		bin = filepath.Join(work, "ds4p")
		build := exec.Command("go", "build", "-o", bin, "./cmd/ds4p")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			os.RemoveAll(work)
			return nil, fmt.Errorf("building ds4p: %v\n%s", err, out)
		}
	}
	s := &stack{tokens: map[string]string{}, work: work}
	s.up = newUpstream(s)
	s.other = newUpstream(s)
	data := filepath.Join(work, "data")
	if err := s.mintTokens(bin, data); err != nil {
		return nil, err
	}
	if err := s.startProxy(bin, work, data); err != nil {
		return nil, err
	}
	return s, nil
}

// Tokens of the suite, by name.
var tokenSpecs = map[string][]string{
	"reader":  {"--sub", "dr-h", "--org", "Organization/org-h", "--purpose", "TREAT", "--scope", "user/*.read"},
	"reader2": {"--sub", "dr-i", "--org", "Organization/org-h", "--purpose", "TREAT", "--scope", "user/*.read"},
	"writer":  {"--sub", "dr-w", "--org", "Organization/org-h", "--purpose", "TREAT", "--scope", "user/*.cruds"},
	"patient": {"--sub", "pt-1", "--org", "Organization/org-h", "--purpose", "TREAT", "--patient", "p1", "--scope", "patient/*.rs"},
}

func (s *stack) mintTokens(bin, data string) error {
	for name, args := range tokenSpecs {
		out, err := exec.Command(bin, append([]string{"token", "--data", data}, args...)...).Output()
		if err != nil {
			return fmt.Errorf("ds4p token %s: %w", name, err)
		}
		s.tokens[name] = strings.TrimSpace(string(out))
	}
	return nil
}

func (s *stack) startProxy(bin, work, data string) error {
	config := filepath.Join(work, "ds4p.yaml")
	yaml := fmt.Sprintf("limits:\n  max_body_bytes: %d\n  max_request_body_bytes: %d\n  upstream_timeout: %s\nenforcement:\n  paging_ttl: 3s\n",
		maxBodyBytes, maxRequestBody, upstreamTimeout)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", "--config", config, "--upstream", s.up.srv.URL+upBase,
		"--data", data, "--dev-auth", "--log-level", "debug")
	// The suites send hundreds of requests with one token; the per-caller
	// rate limits are not what they test.
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "DS4P_RATE_LIMITS_ENABLED=false")
	// A Writer, not a pipe: Wait returns only after the log is copied, so
	// finish checks every line for canaries.
	cmd.Stderr = logWriter{s}
	p, err := servetest.Start(cmd, 30*time.Second, nil)
	if err != nil {
		s.logMu.Lock()
		defer s.logMu.Unlock()
		return fmt.Errorf("%v; its log:\n%s", err, truncate(s.log.Bytes()))
	}
	s.proc, s.proxy = p, p.Base
	s.addr = strings.TrimPrefix(p.Base, "http://")
	return nil
}

// logWriter appends ds4p's stderr to the stack's log.
type logWriter struct{ s *stack }

func (w logWriter) Write(b []byte) (int, error) {
	w.s.logMu.Lock()
	defer w.s.logMu.Unlock()
	return w.s.log.Write(b)
}

// canary returns a new unique marker string and remembers it.
func (s *stack) canary(name string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c := "CANARY" + strings.ToUpper(strings.ReplaceAll(name, "-", "")) + hex.EncodeToString(b)
	s.canMu.Lock()
	s.canarys = append(s.canarys, c)
	s.canMu.Unlock()
	return c
}

func (s *stack) allCanaries() []string {
	s.canMu.Lock()
	defer s.canMu.Unlock()
	return append([]string(nil), s.canarys...)
}

// response is one answer of the proxy.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Raw    []byte // the whole response as received, for raw TCP requests
}

// get sends one GET through the proxy with a caller's token.
func (s *stack) get(t *testing.T, path, caller string, hdr ...string) response {
	t.Helper()
	return s.do(t, http.MethodGet, path, caller, nil, hdr...)
}

func (s *stack) do(t *testing.T, method, path, caller string, body []byte, hdr ...string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.proxy+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if caller != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[caller])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// raw sends bytes as they are over a new TCP connection and returns what
// came back until the proxy closed the connection or 10 s passed.
func (s *stack) raw(t *testing.T, request string) response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("writing the raw request: %v", err)
	}
	// The connection is not half-closed: net/http reads EOF on it as the
	// caller going away and cancels the request, and ds4p then withholds
	// (500), which is right for a caller that left but not what these
	// cases test. So the first response is read as a client would, and
	// whatever the connection carries after it (the answer to a smuggled
	// trailing request) is collected until the server closes or is quiet.
	var all bytes.Buffer
	br := bufio.NewReader(io.TeeReader(conn, &all))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no HTTP response to the raw request (%v):\n%q", err, all.Bytes())
	}
	r := response{Status: resp.StatusCode, Header: resp.Header}
	r.Body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, _ = io.Copy(io.Discard, br)
	r.Raw = all.Bytes()
	return r
}

// tokenFor is the Authorization header line of a caller, for raw requests.
func (s *stack) authLine(caller string) string {
	return "Authorization: Bearer " + s.tokens[caller] + "\r\n"
}

// assertNoCanary fails when any canary the suite made appears in r.
func (s *stack) assertNoCanary(t *testing.T, r response) {
	t.Helper()
	var all bytes.Buffer
	all.Write(r.Raw)
	all.Write(r.Body)
	for k, vs := range r.Header {
		fmt.Fprintf(&all, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	text := strings.ToUpper(all.String()) // header names are canonicalised
	for _, c := range s.allCanaries() {
		if strings.Contains(text, c) {
			t.Errorf("canary %s reached the caller:\n%s", c, truncate(all.Bytes()))
		}
	}
	for _, marker := range phiMarkers {
		if strings.Contains(text, strings.ToUpper(marker)) {
			t.Errorf("PHI-like marker %q reached the caller:\n%s", marker, truncate(all.Bytes()))
		}
	}
}

// assertOutcome fails unless r is a FHIR OperationOutcome with one of the
// statuses.
func assertOutcome(t *testing.T, r response, statuses ...int) {
	t.Helper()
	ok := false
	for _, st := range statuses {
		ok = ok || r.Status == st
	}
	if !ok {
		t.Errorf("status %d, want one of %v; body: %s", r.Status, statuses, truncate(r.Body))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("Content-Type %q, want application/fhir+json", ct)
	}
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity, Code string
		} `json:"issue"`
	}
	if err := json.Unmarshal(r.Body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Errorf("not an OperationOutcome with an issue (%v): %s", err, truncate(r.Body))
	}
}

// assertUp fails unless a good read through the proxy answers 200 with the
// good Patient.
func (s *stack) assertUp(t *testing.T) {
	t.Helper()
	r := s.get(t, "/fhir/Patient/good", "reader")
	if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(`"id":"good"`)) {
		t.Fatalf("the proxy does not answer a good read after the case: %d %s", r.Status, truncate(r.Body))
	}
	if ids := r.Header.Values("X-Request-Id"); len(ids) != 1 {
		t.Errorf("X-Request-Id %q, want one", ids)
	}
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// upstream is an HTTP server that answers each request by a behaviour
// chosen from the request, and records every request it receives.
type upstream struct {
	srv   *httptest.Server
	st    *stack
	mu    sync.Mutex
	seen  []seen
	cases map[string]http.HandlerFunc // by the case name in the request
}

// seen is one request the upstream received.
type seen struct {
	Method, URI, Host string
	Header            http.Header
}

func newUpstream(st *stack) *upstream {
	u := &upstream{st: st, cases: map[string]http.HandlerFunc{}}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(u.serve))
	u.srv.Config.ReadHeaderTimeout = 10 * time.Second
	u.srv.Start()
	return u
}

// handle registers the behaviour of a case name.
func (u *upstream) handle(name string, h http.HandlerFunc) {
	u.mu.Lock()
	u.cases[name] = h
	u.mu.Unlock()
}

// requests returns what the upstream received since mark.
func (u *upstream) requests(mark int) []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.seen[mark:]...)
}

func (u *upstream) mark() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.seen = append(u.seen, seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone()})
	name := caseOf(r)
	h := u.cases[name]
	u.mu.Unlock()
	switch {
	case h != nil:
		h(w, r)
	case r.URL.Path == upBase+"/metadata":
		writeJSON(w, http.StatusOK, `{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","format":["json"]}`)
	case r.URL.Path == upBase+"/Patient/good":
		writeJSON(w, http.StatusOK, `{"resourceType":"Patient","id":"good","meta":{"versionId":"1"},"name":[{"family":"Good"}]}`)
	default:
		writeJSON(w, http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)
	}
}

// caseOf names the case of a request: the last path segment (the one
// before an operation), or the "identifier" search parameter.
func caseOf(r *http.Request) string {
	if id := r.URL.Query().Get("identifier"); id != "" {
		return id
	}
	path := r.URL.Path
	if i := strings.LastIndexByte(path, '/'); i >= 0 && strings.HasPrefix(path[i+1:], "$") {
		path = path[:i]
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// phiMarkers are PHI-like strings every hostile body carries besides its
// canary.
var phiMarkers = []string{"987-65-4320", "Quackenbush", "Zebulon"}

// phi is a fragment of JSON text with PHI-like values and a canary.
func phi(canary string) string {
	return `"name":[{"family":"Quackenbush","given":["Zebulon"]}],"identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"987-65-4320"}],"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + canary + `</div>"}`
}
