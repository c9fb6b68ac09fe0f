//go:build !unix || aix

package proxy

import "net"

// peekIdle: here an idle connection cannot be checked for bytes the
// upstream sent unasked, which could parse as the next request's
// response; syncClient then leaves every request to http.Transport.
const peekIdle = false

// idleProbe cannot check anything here: every idle connection counts as
// spoiled.
type idleProbe struct{}

func newIdleProbe(net.Conn) *idleProbe { return &idleProbe{} }

func (*idleProbe) spoiledConn() bool { return true }
