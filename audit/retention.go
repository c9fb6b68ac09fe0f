package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// Year is how long a year of retention lasts: 365⅓ days, so that six
	// years (DefaultRetention) are 52608h and cover the leap days.
	Year = 8768 * time.Hour
	// Day is 24 hours.
	Day = 24 * time.Hour
	// DefaultRetention is six years (45 CFR 164.316(b)(2), 164.528).
	DefaultRetention = 6 * Year
	// maxRetention keeps durations far from overflowing.
	maxRetention = 200 * Year
)

// ParseRetention reads a retention period: a Go duration ("52608h"),
// whole years and days ("6y", "90d", "1y30d"), or those followed by a Go
// duration ("1y12h"). "0" means keep forever.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("retention is empty: want a duration like 6y, 90d or 52608h")
	}
	var total time.Duration
	for _, unit := range []struct {
		suffix byte
		d      time.Duration
	}{{'y', Year}, {'d', Day}} {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || s[i] != unit.suffix {
			continue
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || time.Duration(n) > maxRetention/unit.d {
			return 0, fmt.Errorf("retention %q is too long", s)
		}
		total += time.Duration(n) * unit.d
		s = s[i+1:]
	}
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("retention %q: want a duration like 6y, 90d or 52608h", s)
		}
		total += d
	}
	if total < 0 || total > maxRetention {
		return 0, fmt.Errorf("retention must be between 0 and 200y")
	}
	return total, nil
}
