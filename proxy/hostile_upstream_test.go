package proxy

import (
	"bytes"
	"errors"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestUpstreamRedirectWithheld: a redirect from the FHIR server is neither
// followed nor passed on; its body (here a permitted resource) and its
// Location (here below the upstream base, which would be rewritten to the
// proxy's) do not reach the caller, who gets a 502 OperationOutcome.
func TestUpstreamRedirectWithheld(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var h *harness
		h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", h.base()+"/Observation/elsewhere")
			fhirJSONHandler(status, bpObs)(w, r)
		})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest(http.MethodGet, h.proxy.URL+"/fhir/Observation/bp1", nil)
		req.Header.Set("Authorization", "Bearer "+tokConsented)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "OperationOutcome") || strings.Contains(body, "60.40") {
			t.Errorf("upstream %d: got %d %s", status, resp.StatusCode, body)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("upstream %d: Location %q reached the caller", status, loc)
		}
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMalformedUpstreamAnswerNotLogged: the transport's error for a
// malformed answer quotes the upstream's bytes; the log line of the
// withheld response must not carry them.
func TestMalformedUpstreamAnswerNotLogged(t *testing.T) {
	t.Parallel()
	const marker = "Quackenbush-987-65-4320"
	var logs bytes.Buffer
	var mu sync.Mutex
	h := newHarness(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 " + marker + " OK\r\nX-Name: " + marker + "\r\n\r\n{\"name\":\"" + marker + "\"}")
		_ = buf.Flush()
		_ = conn.Close()
	}, func(_ *Options, d *Deps) {
		d.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	})
	resp, body := h.get("/fhir/Observation/bp1", tokConsented)
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, marker) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "response withheld") {
		t.Fatalf("no log line for the withheld response: %s", logs.String())
	}
	if strings.Contains(logs.String(), marker) {
		t.Errorf("the upstream's bytes reached the log: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestErrStringWithholdsQuotedText(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		`net/http: HTTP/1.x transport connection broken: malformed HTTP status code "Zebulon"`,
		`malformed MIME header line: "X-Patient Zebulon"`,
	} {
		got := errString(errors.New(msg))
		if strings.Contains(got, "Zebulon") || !strings.Contains(got, "malformed") {
			t.Errorf("errString(%q) = %q", msg, got)
		}
	}
}

// TestWithheldQuotes: a standard library log line that quotes upstream
// bytes (the transport's unsolicited-response line) is cut at the quote.
func TestWithheldQuotes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := stdlog.New(WithheldQuotes(&buf), "", 0)
	l.Printf("Unsolicited response received on idle HTTP channel starting with %q; err=%v", "HTTP/1.1 200 OK\r\nX-Patient: Zebulon", nil)
	l.Printf("plain line")
	got := buf.String()
	if strings.Contains(got, "Zebulon") || !strings.Contains(got, "Unsolicited response") || !strings.Contains(got, "plain line\n") {
		t.Errorf("log output %q", got)
	}
}

// TestOneRequestID: an answer carries its X-Request-Id once, whether it
// came through the pipeline, as a missing resource, or empty.
func TestOneRequestID(t *testing.T) {
	t.Parallel()
	for name, up := range map[string]http.HandlerFunc{
		"resource": fhirJSONHandler(200, bpObs),
		"missing":  fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`),
		"empty":    func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) },
	} {
		h := newHarness(t, up)
		resp, body := h.get("/fhir/Observation/bp1", tokConsented, "X-Request-Id", "one-id")
		if got := resp.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != "one-id" {
			t.Errorf("%s: X-Request-Id %q (%d %s)", name, got, resp.StatusCode, body)
		}
	}
}
