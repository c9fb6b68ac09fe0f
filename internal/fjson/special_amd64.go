//go:build amd64 && !purego

package fjson

import "golang.org/x/sys/cpu"

// haveAVX2 says scanSpecial32 may run: the CPU has AVX2.
var haveAVX2 = cpu.X86.HasAVX2

// scanSpecial32 looks at the whole 32-byte blocks of b, in order, for a
// byte a string must have looked at (a quote, a backslash, a control
// character or a non-ASCII byte) and returns its index, or the number of
// bytes in whole blocks when none holds one. AVX2 only: callers check
// haveAVX2.
//
//go:noescape
func scanSpecial32(b []byte) int
