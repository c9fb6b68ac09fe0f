package textcut

import (
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 6, "é…"}, // 'é' is 2 bytes: 6-3 = 3 bytes, cut back to 2
		{"abc", 2, "…"},
	} {
		got := Cut(c.s, c.n)
		if got != c.want || len(got) > max(c.n, len("…")) || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
