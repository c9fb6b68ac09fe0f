// Package reqid holds the one rule for the request ids the proxy's edge
// and the web console take from a caller's X-Request-Id header.
package reqid

// Plain reports whether s is a short id of letters, digits, '-', '_' and
// '.' (at most 64 bytes): one that can go into logs, headers and the
// ledger as it is.
func Plain(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
