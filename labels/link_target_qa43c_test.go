package labels

import (
	"testing"
	"unsafe"
)

// TestLinkTargetAsideQA43C: each link's resolved target (linkTarget, one
// per propagating reference of a Bundle, copied in every round) carried
// what a version the reference names passes on, that version's result and
// the other versions a canonical names, 88 of its 184 bytes, which almost
// no link fills. They
// are apart (linkTarget.aside); what they pass on is unchanged (the
// version and canonical tests: TestVersionedReferenceLabels,
// TestProgramRoleVersionQA41A, TestCanonicalFormResolvedQA39K).
func TestLinkTargetAsideQA43C(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(linkTarget{}); n > 104 {
		t.Errorf("a link target is %d bytes, want at most 104", n)
	}
	// Without an aside: nothing passes on beside the target.
	var plain linkTarget
	if old, more := plain.old(), plain.more(); old.labels != nil || old.program != "" || old.directory != "" || more != nil || plain.oldRes() != nil {
		t.Errorf("a target without an aside passes on %+v beside it, and %v, %v", old, more, plain.oldRes())
	}
}
