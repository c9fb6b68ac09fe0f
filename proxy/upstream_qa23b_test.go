package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Taking an idle connection back from the pool allocates nothing once it
// has been reused (the connection's SyscallConn and the peek's callback
// are kept), and the kept probe still sees what the upstream sends, or
// that it closed the connection, while the connection idles.
func TestSyncClientReuseAllocatesNothing(t *testing.T) {
	skipWithoutPeek(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	host := ln.Addr().String()
	nc, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	defer server.Close()
	cl := newTestSyncClient()
	defer cl.CloseIdleConnections()
	c := &syncConn{c: nc}
	cl.put(host, c, true)
	cycle := func() {
		got, reused := cl.get(host)
		if got != c || !reused {
			t.Fatalf("get: %p %v; want the pooled connection %p", got, reused, c)
		}
		cl.put(host, got, true)
	}
	cycle() // the first reuse makes the probe
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("taking a pooled connection back: %v allocations; want 0", n)
	}
	// Bytes the upstream sends unasked spoil the connection: the kept
	// probe must still look.
	if _, err := io.WriteString(server, "HTTP/1.1 200 OK\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if got, reused := cl.get(host); got != nil || reused {
		t.Fatalf("a connection the upstream wrote to while idle was reused")
	}
}

// A read on a reused upstream connection stays within its allocation
// budget: the exchange's cancellation callback is made once per
// connection, not once per request. The count is process-wide, so the
// raw upstream's own reading of the request is in it.
func TestSyncClientExchangeAllocations(t *testing.T) {
	skipWithoutPeek(t)
	up := newRawUpstream(t, func(int64, *http.Request) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmine"
	})
	cl := newTestSyncClient()
	defer cl.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, up.url()+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	read := func() {
		resp, err := cl.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	read()
	read()
	n := testing.AllocsPerRun(200, read)
	t.Logf("%v allocations per read", n)
	if up.conns.Load() != 1 {
		t.Fatalf("%d upstream connections; want the one reused", up.conns.Load())
	}
	if n > exchangeAllocBudget && !raceEnabled {
		t.Errorf("a read on a reused connection: %v allocations; want at most %d", n, exchangeAllocBudget)
	}
}

// exchangeAllocBudget: 24 measured with Go 1.26 (25 when the cancellation
// callback was made per request).
const exchangeAllocBudget = 24
