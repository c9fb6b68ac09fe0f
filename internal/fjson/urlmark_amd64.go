//go:build amd64 && !purego

package fjson

// indexURLMark32 looks at positions 0 to (len(b)-1)&^31 of b (each with the
// byte after it, so it never reads past b), 32 a step, for the first
// pair IndexURLMark returns, and returns its index, or the number of
// positions looked at when none begins one. AVX2 only: callers check
// haveAVX2.
//
//go:noescape
func indexURLMark32(b []byte) int
