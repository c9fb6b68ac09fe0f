package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawUpstream answers each request with answer's raw HTTP bytes, counting
// connections and requests; an answer of "" closes the connection without
// a word, an HTTP/1.0 answer closes it after, and what follows pause in an
// answer is written 50 ms after the rest.
type rawUpstream struct {
	ln    net.Listener
	conns atomic.Int64
	reqs  atomic.Int64
}

func newRawUpstream(t *testing.T, answer func(n int64, req *http.Request) string) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					a := answer(u.reqs.Add(1), req)
					if a == "" {
						return
					}
					now, later, delayed := strings.Cut(a, pause)
					if _, err := io.WriteString(c, now); err != nil || strings.HasPrefix(a, "HTTP/1.0") {
						return // HTTP/1.0 without a length: the body ends with the connection
					}
					if delayed {
						time.Sleep(50 * time.Millisecond)
						if _, err := io.WriteString(c, later); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return u
}

const pause = "\x00pause\x00"

func (u *rawUpstream) url() string { return "http://" + u.ln.Addr().String() }

func syncGet(t *testing.T, c *syncClient, method, url string) (*http.Response, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(b), err
}

// skipWithoutPeek: where idle connections cannot be peeked at, syncClient
// takes nothing (peekIdle) and these tests have nothing to test.
func skipWithoutPeek(t *testing.T) {
	if !peekIdle {
		t.Skip("syncClient is off on this system (peekIdle)")
	}
}

func newTestSyncClient() *syncClient {
	return newSyncClient(http.DefaultTransport, 8)
}

// Each framing net/http reads reads the same through syncClient, and the
// connection is reused after every one that leaves it reusable.
func TestSyncClientFraming(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	answers := map[string]string{
		"/length":  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
		"/early":   "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"/empty":   "HTTP/1.1 204 No Content\r\n\r\n",
		"/head":    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
	}
	up := newRawUpstream(t, func(_ int64, req *http.Request) string { return answers[req.URL.Path] })
	c := newTestSyncClient()
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/length", "hello"}, {"GET", "/chunked", "hello"}, {"GET", "/early", "hello"},
		{"GET", "/empty", ""}, {"HEAD", "/head", ""}, {"GET", "/length", "hello"},
	} {
		resp, body, err := syncGet(t, c, tc.method, up.url()+tc.path)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		if resp.StatusCode/100 != 2 || body != tc.body {
			t.Errorf("%s %s: %d %q; want 2xx %q", tc.method, tc.path, resp.StatusCode, body, tc.body)
		}
	}
	if n := up.conns.Load(); n != 1 {
		t.Errorf("%d connections for six requests; want one, reused", n)
	}
	// Read until the upstream closes: not reusable.
	closeUp := newRawUpstream(t, func(int64, *http.Request) string {
		return "HTTP/1.0 200 OK\r\n\r\nuntil close"
	})
	for range 2 {
		if _, body, err := syncGet(t, c, "GET", closeUp.url()+"/"); err != nil || body != "until close" {
			t.Fatalf("read-until-close body %q, %v", body, err)
		}
	}
	if n := closeUp.conns.Load(); n != 2 {
		t.Errorf("%d connections to an upstream that closes after each answer; want 2", n)
	}
}

// An idle connection the upstream closed is replaced, and the request
// answered, without the caller seeing an error.
func TestSyncClientRetriesStaleIdleConnection(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	up := newRawUpstream(t, func(n int64, _ *http.Request) string {
		if n == 2 {
			return "" // the second request finds its connection closed
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	c := newTestSyncClient()
	for i := range 3 {
		if _, body, err := syncGet(t, c, "GET", up.url()+"/"); err != nil || body != "ok" {
			t.Fatalf("request %d: %q, %v", i, body, err)
		}
	}
	if n := up.conns.Load(); n != 2 {
		t.Errorf("%d connections; want 2 (the stale one replaced once)", n)
	}
	// A new connection that fails is an error, not a loop.
	dead := newRawUpstream(t, func(int64, *http.Request) string { return "" })
	if _, _, err := syncGet(t, c, "GET", dead.url()+"/"); err == nil {
		t.Fatal("an upstream that closes without answering gave no error")
	}
}

// A body closed before its end closes the connection; one read to its end
// returns it even if Close is never called.
func TestSyncClientReusesOnlyFinishedConnections(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	up := newRawUpstream(t, func(int64, *http.Request) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
	})
	c := newTestSyncClient()
	req, _ := http.NewRequest("GET", up.url()+"/", nil)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // 7 bytes unread
	if _, body, err := syncGet(t, c, "GET", up.url()+"/"); err != nil || body != "0123456789" {
		t.Fatalf("after an early close: %q, %v", body, err)
	}
	req, _ = http.NewRequest("GET", up.url()+"/", nil)
	resp, err = c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "0123456789" {
		t.Fatalf("%q, %v", b, err)
	}
	// not closed: EOF alone returns the connection
	if _, body, err := syncGet(t, c, "GET", up.url()+"/"); err != nil || body != "0123456789" {
		t.Fatalf("%q, %v", body, err)
	}
	if n := up.conns.Load(); n != 2 {
		t.Errorf("%d connections; want 2 (one closed early, one reused twice)", n)
	}
}

// The request's context ends a wait for the header at once, and the
// connection is not pooled.
func TestSyncClientContext(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	release := make(chan struct{})
	up := newRawUpstream(t, func(n int64, _ *http.Request) string {
		if n == 1 {
			<-release
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	defer close(release)
	c := newTestSyncClient()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", up.url()+"/", nil)
	_, err := c.RoundTrip(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want the context's deadline", err)
	}
	if _, body, err := syncGet(t, c, "GET", up.url()+"/"); err != nil || body != "ok" {
		t.Fatalf("%q, %v", body, err)
	}
	if n := up.conns.Load(); n != 2 {
		t.Errorf("%d connections; the timed-out one must not be reused", n)
	}
}

// A header without end is refused once it passes the bound, as the
// transport refuses it; a malformed answer is an error.
func TestSyncClientRefusesBadAnswers(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	huge := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", maxUpstreamHeaderBytes/1000+10) + "\r\n"
	up := newRawUpstream(t, func(_ int64, req *http.Request) string {
		if req.URL.Path == "/huge" {
			return huge
		}
		return "HTTP/1.1 Zebulon OK\r\n\r\n"
	})
	c := newTestSyncClient()
	if _, _, err := syncGet(t, c, "GET", up.url()+"/huge"); !errors.Is(err, errUpstreamHeaderTooLarge) {
		t.Errorf("an oversized header: %v", err)
	}
	if _, _, err := syncGet(t, c, "GET", up.url()+"/bad"); err == nil {
		t.Error("a malformed status line was accepted")
	}
}

// What syncClient does not take goes to the transport behind it.
func TestSyncClientLeavesTheRestToTheTransport(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Scheme)
		mu.Unlock()
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	c := newSyncClient(next, 8)
	post, _ := http.NewRequest("POST", "http://127.0.0.1:1/", strings.NewReader("x"))
	tlsGet, _ := http.NewRequest("GET", "https://127.0.0.1:1/", nil)
	upgrade, _ := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	upgrade.Header.Set("Connection", "Upgrade")
	upgrade.Header.Set("Upgrade", "websocket")
	for _, r := range []*http.Request{post, tlsGet, upgrade} {
		if _, err := c.RoundTrip(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(seen, ","); got != "POST http,GET https,GET http" {
		t.Errorf("the transport saw %q", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Concurrent requests through the proxy's own client against a real
// net/http server: every answer whole (go test -race checks the pool).
func TestSyncClientConcurrent(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat(r.URL.Path, 500))
	}))
	defer srv.Close()
	c := newTestSyncClient()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				path := "/" + strings.Repeat("x", g+1) + strings.Repeat("y", i%3)
				_, body, err := syncGet(t, c, "GET", srv.URL+path)
				if err == nil && body != strings.Repeat(path, 500) {
					err = errors.New("a body came back mixed: " + path)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.CloseIdleConnections()
}

// Bytes the upstream sends beyond a response, at once or while the
// connection idles, are never read as another request's response.
func TestSyncClientUnsolicitedBytes(t *testing.T) {
	t.Parallel()
	skipWithoutPeek(t)
	const evil = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!"
	up := newRawUpstream(t, func(_ int64, req *http.Request) string {
		switch req.URL.Path {
		case "/glued": // a second answer in the same write
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + evil
		case "/later": // a second answer once the connection idles
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + pause + evil
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmine"
	})
	c := newTestSyncClient()
	for _, first := range []string{"/glued", "/later"} {
		if _, body, err := syncGet(t, c, "GET", up.url()+first); err != nil || body != "ok" {
			t.Fatalf("%s: %q, %v", first, body, err)
		}
		time.Sleep(200 * time.Millisecond) // the late answer arrives while the connection idles
		if _, body, err := syncGet(t, c, "GET", up.url()+"/next"); err != nil || body != "mine" {
			t.Fatalf("after %s: %q, %v; want this request's own answer", first, body, err)
		}
	}
}
