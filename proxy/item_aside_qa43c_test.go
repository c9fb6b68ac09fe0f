package proxy

import (
	"testing"
	"unsafe"

	"github.com/ds4p/ds4p/labels"
)

// TestItemAsideQA43C: an item (one per resource of a response, about a
// third of a 1,000-entry search's allocated bytes) carried its stored
// Bundles' labels, a Patient's enrolment elements and the classes of its
// kept elements in every item, and its four flags a word each: 712
// bytes. Those few items' lists are apart (item.aside) and the flags side
// by side: 624. labels.Result (embedded) then took a directory entry's
// own identifiers (Result.idents, 24 bytes, 9e43bba's identifier links):
// 648. What they hold is read as before (bundle labels, enrolment and
// element tests).
func TestItemAsideQA43C(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(item{}); n > 648 {
		t.Errorf("an item is %d bytes, want at most 648", n)
	}
	var it item
	if it.inBundle() != nil || it.enrolment() != nil || it.extra() != nil {
		t.Error("an item without an aside holds something aside")
	}
	c := &class{}
	it.withAside().extra = []*class{c}
	it.withAside().inBundle = labels.Set{{System: "s", Code: "c"}}
	if len(it.extra()) != 1 || it.extra()[0] != c || len(it.inBundle()) != 1 || it.enrolment() != nil {
		t.Errorf("aside: extra %v, inBundle %v, enrolment %v", it.extra(), it.inBundle(), it.enrolment())
	}
}
