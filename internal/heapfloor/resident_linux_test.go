package heapfloor

import (
	"os"
	"syscall"
	"testing"
)

// TestResidentSeesWrittenPages checks the probe fresh relies on: mapped but
// never written memory is not resident, and it is once a sampled page is
// written.
func TestResidentSeesWrittenPages(t *testing.T) {
	size := 64 * os.Getpagesize()
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	if resident(b) {
		t.Fatal("untouched mapping reported resident")
	}
	b[len(b)/2] = 1
	if !resident(b) {
		t.Fatal("mapping with its middle page written reported not resident")
	}
	if resident(b[:1]) {
		t.Fatal("a slice shorter than a page reported resident")
	}
}
