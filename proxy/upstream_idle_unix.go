//go:build unix && !aix

package proxy

import (
	"net"
	"syscall"
)

// peekIdle: idle connections can be checked (idleProbe).
const peekIdle = true

// idleProbe checks one pooled connection for bytes the upstream sent, or
// an end it signalled, while the connection sat idle: bytes nobody asked
// for would be read as the next request's response (http.Transport closes
// such a connection, its reader goroutine sees them). It is made once per
// connection, as taking the connection's SyscallConn and the callback its
// Read runs each allocate, and every reuse would otherwise pay both.
// Only the pool's holder of the connection uses it (syncClient.get, under
// its lock).
type idleProbe struct {
	rc      syscall.RawConn // nil: none could be taken (spoiled, always)
	plain   bool            // c is no syscall.Conn: nothing to check
	peek    func(fd uintptr) bool
	spoiled bool
}

func newIdleProbe(c net.Conn) *idleProbe {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return &idleProbe{plain: true}
	}
	p := &idleProbe{}
	if rc, err := sc.SyscallConn(); err == nil {
		p.rc = rc
	}
	p.peek = p.peekFD
	return p
}

// peekFD is one non-blocking peek at fd.
func (p *idleProbe) peekFD(fd uintptr) bool {
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	// Nothing to read (EAGAIN) is the healthy case; bytes, end of stream
	// (0, nil) or any other error spoil the connection.
	p.spoiled = n > 0 || err == nil || (err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR)
	return true // never wait
}

// spoiledConn reports whether the upstream wrote to, or closed, the
// connection while it sat idle.
func (p *idleProbe) spoiledConn() bool {
	if p.plain {
		return false
	}
	if p.rc == nil {
		return true
	}
	p.spoiled = true // unless the peek runs and finds nothing
	err := p.rc.Read(p.peek)
	return p.spoiled || err != nil
}
