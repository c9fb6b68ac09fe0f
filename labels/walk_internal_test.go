package labels

import "testing"

// TestNameSwitches: the switches the walk uses for member names (coding.note,
// topMember, metaMember) find what memberIndex finds, for every name,
// escaped spellings of them, near misses and other keys.
func TestNameSwitches(t *testing.T) {
	sets := []struct {
		name  string
		names *nameSet
		index func([]byte) int
	}{
		{"coding", codingNames, codingIndex},
		{"top", topNames, topIndex},
		{"meta", metaNames, metaIndex},
	}
	for _, s := range sets {
		keys := []string{"", "x", "id", "cod", "codes", "Code", "system ", "sys", "valueCode", "valueCodings",
			"div", "url", "urn", "value", "valuE", "reference", "referenc", "display", "coding", "text", `\\`, `a\/b`}
		for _, set := range sets {
			for _, n := range set.names.names {
				keys = append(keys, n, `\u00`+hex2(n[0])+n[1:], n[:len(n)-1]+`\/`, n+`\"`, n[1:])
			}
		}
		found := 0
		for _, k := range keys {
			got, want := s.index([]byte(k)), memberIndex([]byte(k), s.names)
			if got != want {
				t.Errorf("%s: index(%q) = %d, memberIndex says %d", s.name, k, got, want)
			}
			if got >= 0 {
				found++
			}
		}
		if found < 2*len(s.names.names) { // each name, and its escaped spelling
			t.Errorf("%s: %d keys found, want at least %d", s.name, found, 2*len(s.names.names))
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
