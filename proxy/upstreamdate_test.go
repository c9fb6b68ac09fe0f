package proxy

import (
	"testing"
	"time"
)

// TestUpstreamDate: an answer's Date is read only when it names a time for
// certain: GMT, or ANSIC (GMT by definition). An RFC 850 date in another
// zone was read as that time in UTC (QA round 32, area A's note).
func TestUpstreamDate(t *testing.T) {
	want := time.Date(2026, 12, 6, 17, 40, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"Sun, 06 Dec 2026 17:40:00 GMT", want},
		{"Sunday, 06-Dec-26 17:40:00 GMT", want},
		{"Sun Dec  6 17:40:00 2026", want},
		{" Sun, 06 Dec 2026 17:40:00 GMT ", want},
		{"Sunday, 06-Dec-26 18:40:00 CET", time.Time{}},
		{"Sun, 06 Dec 2026 12:40:00 EST", time.Time{}},
		{"Sun, 06 Dec 2026 17:40:00 +0000", time.Time{}},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
	} {
		if got := upstreamDate(c.in); !got.Equal(c.want) {
			t.Errorf("upstreamDate(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
