package consent

import (
	"testing"
	"time"
)

// TestParseSpan checks that FHIR dates cover their whole precision.
func TestParseSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		start, end string // RFC 3339; empty means an error is expected
	}{
		{"2027", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"},
		{"2027-02", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"},
		{"2027-12", "2027-12-01T00:00:00Z", "2028-01-01T00:00:00Z"},
		{"2027-01-01", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"2027-01-01T10:00:00+02:00", "2027-01-01T08:00:00Z", "2027-01-01T08:00:01Z"},
		{"2027-01-01T10:00:00.5Z", "2027-01-01T10:00:00.5Z", "2027-01-01T10:00:00.6Z"},
		{"2027-01-01T10:00:00.123Z", "2027-01-01T10:00:00.123Z", "2027-01-01T10:00:00.124Z"},
		{in: "2027-1-1"},
		{in: "2027-02-30"},
		{in: "2027-01-01T10:00"},
		{in: "2027-01-01T10:00:00"},
		{in: "2027-01-01 10:00:00Z"},
		{in: "27"},
		{in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSpan(tt.in)
			if tt.start == "" {
				if err == nil {
					t.Fatalf("parseSpan(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSpan(%q): %v", tt.in, err)
			}
			if !got.start.Equal(mustTime(t, tt.start)) || !got.end.Equal(mustTime(t, tt.end)) {
				t.Errorf("parseSpan(%q) = [%v, %v), want [%s, %s)", tt.in, got.start, got.end, tt.start, tt.end)
			}
		})
	}
}

// TestBoundsNs checks the edges of the unix-nanosecond encoding, where 0
// means unbounded.
func TestBoundsNs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		conv func(time.Time) (int64, bool)
		in   time.Time
		want int64
		ok   bool
	}{
		{"start absent", startNs, time.Time{}, 0, true},
		{"start before 1678 is unbounded", startNs, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), 0, true},
		{"start after 2262 is an error", startNs, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 0, false},
		{"start ordinary", startNs, time.Unix(5, 0), 5e9, true},
		{"end absent", endNs, time.Time{}, 0, true},
		{"end after 2262 is unbounded", endNs, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 0, true},
		{"end before 1678 is an error", endNs, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), 0, false},
		{"end at the epoch is not unbounded", endNs, time.Unix(0, 0), -1, true},
		{"end ordinary", endNs, time.Unix(5, 0), 5e9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.conv(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestPeriodNs checks periods as Normalize reports them.
func TestPeriodNs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		start, end string
		wantStart  int64
		wantEnd    int64
		wantErr    bool
	}{
		{"inclusive end date", "2026-01-01", "2027-01-01", ns(t, "2026-01-01T00:00:00Z"), ns(t, "2027-01-02T00:00:00Z"), false},
		{"one day", "2026-01-01", "2026-01-01", ns(t, "2026-01-01T00:00:00Z"), ns(t, "2026-01-02T00:00:00Z"), false},
		{"open start", "", "2026-01-01", 0, ns(t, "2026-01-02T00:00:00Z"), false},
		{"open end", "2026-01-01", "", ns(t, "2026-01-01T00:00:00Z"), 0, false},
		{"end 9999 is unbounded", "2026-01-01", "9999-12-31", ns(t, "2026-01-01T00:00:00Z"), 0, false},
		{"ends the day before 1970", "1960-01-01", "1969-12-31", ns(t, "1960-01-01T00:00:00Z"), -1, false},
		{"start after end", "2026-01-02", "2026-01-01", 0, 0, true},
		{"time before a same-day end", "2026-01-01T10:00:00Z", "2026-01-01", ns(t, "2026-01-01T10:00:00Z"), ns(t, "2026-01-02T00:00:00Z"), false},
		{"start in 2300", "2300-01-01", "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errs problems
			start, end, _, _ := checkPeriod(&period{Start: tt.start, End: tt.end}, "p", &errs)
			if (len(errs) > 0) != tt.wantErr {
				t.Fatalf("problems = %v, want error %v", errs, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if start != tt.wantStart || end != tt.wantEnd {
				t.Errorf("period = [%d, %d), want [%d, %d)", start, end, tt.wantStart, tt.wantEnd)
			}
		})
	}
}
