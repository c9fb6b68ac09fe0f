//go:build !amd64 || purego

package fjson

// haveAVX2 is false off amd64 (or with the purego tag): scanString reads
// eight bytes at a time only.
const haveAVX2 = false

// scanSpecial32 is never called where haveAVX2 is false.
func scanSpecial32(b []byte) int { return 0 }
