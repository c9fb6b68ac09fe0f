package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestBreakGlassTimeBoxBounded: a break-the-glass time box of more than a
// day, or a clock skew of more than an hour (a digit slipped: 36000 for
// 3600), is refused by verification rather than widening the emergency
// window; the shipped values and the bounds themselves load.
func TestBreakGlassTimeBoxBounded(t *testing.T) {
	t.Parallel()
	const config = "ds4p/config/data.json"
	for _, tc := range []struct {
		key  string
		v    int
		want bool // refused
	}{
		{"max_token_lifetime_seconds", 36000 * 10, true},
		{"max_token_lifetime_seconds", 86400, false},
		{"clock_skew_seconds", 36000, true},
		{"clock_skew_seconds", 3600, false},
	} {
		tree := copyTree(t, rego.FS())
		var doc map[string]any
		if err := json.Unmarshal(tree[config].Data, &doc); err != nil {
			t.Fatal(err)
		}
		doc["break_glass"].(map[string]any)[tc.key] = tc.v
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		tree[config].Data = b
		err = Verify(context.Background(), tree)
		if refused := err != nil && strings.Contains(err.Error(), tc.key); refused != tc.want {
			t.Errorf("%s = %d: Verify = %v, want refused %v", tc.key, tc.v, err, tc.want)
		}
	}
}
