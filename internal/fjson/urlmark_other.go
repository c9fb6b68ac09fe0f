//go:build !amd64 || purego

package fjson

// indexURLMark32 is never called where haveAVX2 is false.
func indexURLMark32(b []byte) int { return 0 }
