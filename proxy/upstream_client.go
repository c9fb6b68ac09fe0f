package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Reads and searches reach a plain-HTTP upstream through syncClient, not
// http.Transport. The transport runs two goroutines per connection (one
// writes requests, one reads responses) and hands each request and
// response between them and the caller over channels: five to six
// goroutine switches per request. On this project's 2-core virtual
// machine a switch that wakes a thread is an exit to the hypervisor, and
// together they were ~13 % of a read's CPU under load. syncClient writes
// the request and reads the response in the caller's goroutine, on a pooled
// keep-alive connection: a read costs 5–14 % less CPU, and 0.04–0.06 ms
// less at c=1 (test/bench/HISTORY.md, twelfth session).
//
// It takes only what it can do exactly as the transport would: GET and
// HEAD without a body or an upgrade, to an http upstream, on systems where
// an idle connection can be peeked at (peekIdle). Everything else
// (writes, https, where the transport negotiates HTTP/2) goes to the
// transport. Like the transport it
//   - parses the response with net/http's own ReadResponse, so framing
//     (Content-Length, chunked, read-until-close) is the standard library's;
//   - bounds the response header (maxUpstreamHeaderBytes), as the transport's
//     MaxResponseHeaderBytes does;
//   - skips interim 1xx responses;
//   - sends a request again, on another idle connection or a new one, when
//     a reused idle one fails before any byte of a response arrives (the
//     upstream closed it while idle; both methods are idempotent); a new
//     connection that fails is an error;
//   - returns a connection to the pool only when its response was read to
//     the end with nothing after it, neither side asked to close it, and the
//     request's context was not cancelled; idle connections expire after
//     upstreamIdleTimeout, and one the upstream wrote to or closed while
//     idle is not reused (idleProbe);
//   - gives up at once when the request's context ends, closing the
//     connection (the caller's upstream timeout is in that context).
type syncClient struct {
	next    http.RoundTripper // everything syncClient does not take
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle int

	mu   sync.Mutex
	idle map[string][]*syncConn // by host:port
}

const (
	// maxUpstreamHeaderBytes bounds a response's status line and header,
	// as http.Transport's default does.
	maxUpstreamHeaderBytes = 10 << 20
	// upstreamIdleTimeout is http.Transport's IdleConnTimeout here.
	upstreamIdleTimeout = 90 * time.Second
)

func newSyncClient(next http.RoundTripper, maxIdle int) *syncClient {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &syncClient{next: next, dial: d.DialContext, maxIdle: maxIdle, idle: map[string][]*syncConn{}}
}

// syncConn is one upstream connection; lim is the header budget its reader
// draws on (unlimited while a body is read).
type syncConn struct {
	c     net.Conn
	lim   *budgetReader
	br    *bufio.Reader
	bw    *bufio.Writer
	since time.Time  // idle since
	probe *idleProbe // made at the first reuse, kept for the later ones
	abort func()     // c.expire, made once
}

// expire gives the connection a deadline in the past: whatever reads or
// writes on it returns at once.
func (c *syncConn) expire() { _ = c.c.SetDeadline(time.Unix(1, 0)) }

// budgetReader reads from r while n lasts; n < 0 means unlimited.
type budgetReader struct {
	r io.Reader
	n int64
}

var errUpstreamHeaderTooLarge = errors.New("upstream response header too large")

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n < 0 {
		return b.r.Read(p)
	}
	if b.n == 0 {
		return 0, errUpstreamHeaderTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// takes reports whether syncClient handles req.
func (t *syncClient) takes(req *http.Request) bool {
	return peekIdle && req.URL.Scheme == "http" &&
		(req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0 &&
		req.Header.Get("Upgrade") == "" && req.Header.Get("Connection") == ""
}

func (t *syncClient) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.takes(req) {
		// Without the reverse proxy's client trace, whose Got1xxResponse
		// hands an upstream's interim answer (103 Early Hints, 102) to the
		// caller's writer before the final answer is decided: its headers
		// (a Link naming what the answer holds) and, since the hook then
		// clears the writer's header map, the edge's X-Request-Id went
		// with it. Interim answers are skipped here as exchange does.
		return t.next.RoundTrip(req.WithContext(untraced{req.Context()}))
	}
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	for {
		c, reused := t.get(host)
		if c == nil {
			nc, err := t.dial(req.Context(), "tcp", host)
			if err != nil {
				return nil, err
			}
			c = &syncConn{c: nc}
			c.lim = &budgetReader{r: nc, n: -1}
			c.br = bufio.NewReaderSize(c.lim, 32<<10)
			c.bw = bufio.NewWriterSize(nc, 4<<10)
		}
		resp, retry, err := t.exchange(req, host, c, reused)
		if retry {
			continue // a stale idle connection: the next one is newer or new
		}
		return resp, err
	}
}

// exchange sends req on c and reads the response header; retry says the
// request may be sent again on another connection.
func (t *syncClient) exchange(req *http.Request, host string, c *syncConn, reused bool) (resp *http.Response, retry bool, err error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		t.put(host, c, true) // untouched
		return nil, false, err
	}
	// The caller's context ends the exchange: an immediate deadline
	// unblocks whatever is reading or writing, and the connection is then
	// closed rather than pooled.
	if c.abort == nil {
		c.abort = c.expire // one func per connection, not one per request
	}
	stop := context.AfterFunc(ctx, c.abort)
	// fail closes c; before any byte of a response, a reused connection's
	// failure (the upstream closed it while idle) lets the caller retry.
	fail := func(err error, beforeResponse bool) (*http.Response, bool, error) {
		stop()
		_ = c.c.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, false, cerr
		}
		if beforeResponse && reused && !errors.Is(err, errUpstreamHeaderTooLarge) {
			return nil, true, nil
		}
		return nil, false, err
	}
	err = req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err == nil {
		c.lim.n = maxUpstreamHeaderBytes - int64(c.br.Buffered())
		_, err = c.br.Peek(1)
	}
	if err != nil {
		return fail(err, true)
	}
	for {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err, false)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// An interim response (103 Early Hints and the like): the final
		// one follows on the same connection.
		_ = resp.Body.Close()
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return fail(errors.New("upstream switched protocols on a request that asked for no upgrade"), false)
	}
	c.lim.n = -1
	body := &syncBody{rc: resp.Body, t: t, host: host, c: c, stop: stop, keep: !resp.Close && !req.Close}
	if resp.Body == http.NoBody { // HEAD, 204, 304, Content-Length 0: nothing follows on the wire
		body.eof = true
	}
	resp.Body = body
	return resp, false, nil
}

// get takes the newest idle connection to host that has not expired.
func (t *syncClient) get(host string) (*syncConn, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns := t.idle[host]
	for len(conns) > 0 {
		c := conns[len(conns)-1]
		conns = conns[:len(conns)-1]
		if c.probe == nil {
			c.probe = newIdleProbe(c.c)
		}
		if time.Since(c.since) < upstreamIdleTimeout && !c.probe.spoiledConn() {
			t.idle[host] = conns
			return c, true
		}
		_ = c.c.Close()
	}
	delete(t.idle, host)
	return nil, false
}

// put pools c for host when keep says it is reusable, or closes it.
func (t *syncClient) put(host string, c *syncConn, keep bool) {
	if keep {
		t.mu.Lock()
		n := 0
		for _, conns := range t.idle {
			n += len(conns)
		}
		if n < t.maxIdle {
			c.since = time.Now()
			t.idle[host] = append(t.idle[host], c)
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
	}
	_ = c.c.Close()
}

// CloseIdleConnections closes the pooled connections (and the transport's).
func (t *syncClient) CloseIdleConnections() {
	t.mu.Lock()
	for host, conns := range t.idle {
		for _, c := range conns {
			_ = c.c.Close()
		}
		delete(t.idle, host)
	}
	t.mu.Unlock()
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// syncBody is a response body on a syncConn: read to its end, the
// connection goes back to the pool (as the transport's does, without
// waiting for Close); closed before, the connection is closed.
type syncBody struct {
	rc   io.ReadCloser
	t    *syncClient
	host string
	c    *syncConn
	stop func() bool
	keep bool
	eof  bool
	done bool
	mu   sync.Mutex
}

func (b *syncBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		if b.eof {
			return 0, io.EOF
		}
		return 0, errors.New("read on a closed upstream response body")
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
		b.release()
	}
	return n, err
}

func (b *syncBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.release()
	}
	return nil
}

// release ends the body's hold on its connection, once.
func (b *syncBody) release() {
	b.done = true
	_ = b.rc.Close()
	// stop is false when the context's deadline already fired: the
	// connection's deadline is then in the past, and it is not reused.
	keep := b.stop() && b.eof && b.keep && b.c.br.Buffered() == 0
	b.t.put(b.host, b.c, keep)
}

// untraced is a request's context without its httptrace.ClientTrace
// (httptrace.ContextClientTrace finds none); everything else, deadline,
// cancellation and the exchange, is the request's.
type untraced struct{ context.Context }

func (c untraced) Value(key any) any {
	v := c.Context.Value(key)
	if _, ok := v.(*httptrace.ClientTrace); ok {
		return nil
	}
	return v
}
