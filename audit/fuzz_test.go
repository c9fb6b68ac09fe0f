package audit

import (
	"testing"
	"time"
)

// FuzzParseCursor checks that any accepted cursor re-encodes to itself.
func FuzzParseCursor(f *testing.F) {
	f.Add(CursorAfter(Entry{Seq: 7, Time: t0}).String())
	f.Add("")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err == nil && c.String() != s {
			t.Errorf("ParseCursor(%q) re-encodes as %q", s, c.String())
		}
	})
}

// FuzzParseRetention checks that an accepted retention is within bounds.
func FuzzParseRetention(f *testing.F) {
	for _, s := range []string{"6y", "90d", "1y30d12h", "52608h", "0", "-1h", "9999999y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRetention(s)
		if err == nil && (d < 0 || d > maxRetention) {
			t.Errorf("ParseRetention(%q) = %v", s, time.Duration(d))
		}
	})
}
