//go:build unix && !aix

package proxy

import (
	"net"
	"syscall"
)

// peekIdle: idle connections can be checked (idleConnSpoiled).
const peekIdle = true

// idleConnSpoiled reports whether the upstream wrote to, or closed, a
// connection while it sat idle in the pool: bytes nobody asked for would
// be read as the next request's response (http.Transport closes such a
// connection, its reader goroutine sees them). One non-blocking peek.
func idleConnSpoiled(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	spoiled := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read (EAGAIN) is the healthy case; bytes, end of
		// stream (0, nil) or any other error spoil the connection.
		spoiled = n > 0 || err == nil || (err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR)
		return true // never wait
	})
	return spoiled || err != nil
}
