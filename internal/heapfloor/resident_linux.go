package heapfloor

import (
	"os"
	"syscall"
	"unsafe"
)

// resident reports whether the kernel backs any of a sample of b's pages
// (first, middle, last) with memory, as it does once the runtime has
// zeroed them. It reports false when it cannot tell.
func resident(b []byte) bool {
	page := os.Getpagesize()
	if len(b) < page {
		return false
	}
	for _, off := range []int{0, len(b) / 2, len(b) - page} {
		addr := uintptr(unsafe.Pointer(&b[off])) &^ uintptr(page-1)
		var vec [1]byte
		_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, addr, uintptr(page), uintptr(unsafe.Pointer(&vec[0])))
		if errno == 0 && vec[0]&1 != 0 {
			return true
		}
	}
	return false
}
