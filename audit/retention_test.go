package audit

import (
	"testing"
	"time"
)

// TestParseRetention checks the y/d suffixes, Go durations and refusals.
func TestParseRetention(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"6y": 52608 * time.Hour, "52608h": DefaultRetention, "90d": 90 * Day, "1y30d": Year + 30*Day,
		"1y12h": Year + 12*time.Hour, "2d1h30m": 49*time.Hour + 30*time.Minute, "0": 0, " 7d ": 7 * Day,
	}
	for s, want := range good {
		if got, err := ParseRetention(s); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "y", "6", "6years", "-1h", "d6", "300y", "99999999999999999999y", "1d1y", "6y x"} {
		if got, err := ParseRetention(s); err == nil {
			t.Errorf("ParseRetention(%q) = %v, want an error", s, got)
		}
	}
}
