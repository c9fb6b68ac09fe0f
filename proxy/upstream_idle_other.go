//go:build !unix || aix

package proxy

import "net"

// peekIdle: here an idle connection cannot be checked for bytes the
// upstream sent unasked, which could parse as the next request's
// response; syncClient then leaves every request to http.Transport.
const peekIdle = false

func idleConnSpoiled(net.Conn) bool { return true }
