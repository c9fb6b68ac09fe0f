// Package textcut cuts text that goes into logs, events and error messages
// to a byte bound without splitting a UTF-8 character.
package textcut

import "unicode/utf8"

// Cut returns s cut to at most n bytes on a UTF-8 boundary, ending in "…"
// (3 bytes, within n) when it was cut.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-len("…"), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
