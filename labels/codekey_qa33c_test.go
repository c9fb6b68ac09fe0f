package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCodeKeyQA33C: CodeKey spells a coding as the rules compare it, for a
// consent's provision codes and an item's codings to be compared alike.
func TestCodeKeyQA33C(t *testing.T) {
	t.Parallel()
	for _, x := range []struct{ system, code, wantSystem, wantCode string }{
		{"urn:oid:2.16.840.1.113883.6.69", "49702-258-37", labels.SystemNDC, "49702025837"},
		{labels.SystemNDC, "49702-0258-37", labels.SystemNDC, "49702025837"},
		{labels.SystemNDC, "4970225837", labels.SystemNDC, "4970225837"},
		{"http://fhir.de/CodeSystem/bfarm/atc", "j05ar20", labels.SystemATC, "J05AR20"},
		{"urn:oid:2.16.840.1.113883.6.90", "f11.20", labels.SystemICD10CM, "F1120"},
		{"http://example.org/local", " a-1 ", "http://example.org/local", "a-1"},
	} {
		s, c := labels.CodeKey(x.system, x.code)
		if s != x.wantSystem || c != x.wantCode {
			t.Errorf("CodeKey(%q, %q) = %q, %q; want %q, %q", x.system, x.code, s, c, x.wantSystem, x.wantCode)
		}
	}
}
