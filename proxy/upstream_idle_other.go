//go:build !unix

package proxy

import "net"

// idleConnSpoiled cannot peek here: a spoiled idle connection shows when
// its next response does not parse (the request then fails closed).
func idleConnSpoiled(net.Conn) bool { return false }
