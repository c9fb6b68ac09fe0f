package reqid

import (
	"strings"
	"testing"
)

func TestPlain(t *testing.T) {
	for s, want := range map[string]bool{
		"abc-123_X.y": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "a b": false, "a/b": false, "é": false, "a\n": false,
	} {
		if got := Plain(s); got != want {
			t.Errorf("Plain(%q) = %v, want %v", s, got, want)
		}
	}
}
