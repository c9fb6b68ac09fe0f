package consent

import (
	"errors"
	"math"
	"strings"
	"time"
)

// errBadTime reports a value that is not a FHIR date or dateTime.
var errBadTime = errors.New("not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss[.fff]+zz:zz)")

// span is the interval of time a FHIR date or dateTime covers, [start, end).
type span struct {
	start, end time.Time
}

// parseSpan parses a FHIR date or dateTime into the interval it covers. FHIR
// values are inclusive at their precision: "2027-01-01" covers the whole day,
// so its exclusive end is 2027-01-02T00:00:00Z. Dates without a time carry no
// zone in FHIR; they are read as UTC.
func parseSpan(s string) (span, error) {
	switch len(s) {
	case 4:
		return dateSpan(s, "2006", 1, 0, 0)
	case 7:
		return dateSpan(s, "2006-01", 0, 1, 0)
	case 10:
		return dateSpan(s, "2006-01-02", 0, 0, 1)
	}
	return dateTimeSpan(s)
}

// dateSpan parses a partial date and adds one unit of its precision.
func dateSpan(s, layout string, years, months, days int) (span, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return span{}, errBadTime
	}
	return span{start: t, end: t.AddDate(years, months, days)}, nil
}

// dateTimeSpan parses a dateTime, which FHIR requires to have seconds and a
// zone, and covers one unit of its last digit.
func dateTimeSpan(s string) (span, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[10] != 'T' {
		return span{}, errBadTime
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return span{}, errBadTime
	}
	t = t.UTC()
	return span{start: t, end: t.Add(precision(s))}, nil
}

// precision returns one unit of the last digit of a dateTime's seconds.
func precision(s string) time.Duration {
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return time.Second
	}
	digits := 0
	for _, c := range s[dot+1:] {
		if c < '0' || c > '9' {
			break
		}
		digits++
	}
	d := time.Second
	for range min(digits, 9) {
		d /= 10
	}
	return d
}

var (
	minNs = time.Unix(0, math.MinInt64)
	maxNs = time.Unix(0, math.MaxInt64)
)

// startNs converts an inclusive start to unix nanoseconds, 0 meaning
// unbounded. A start before 1678 is as good as unbounded.
func startNs(t time.Time) (int64, bool) {
	if t.IsZero() || !t.After(minNs) {
		return 0, true
	}
	if !t.Before(maxNs) {
		return 0, false
	}
	return t.UnixNano(), true
}

// endNs converts an exclusive end to unix nanoseconds, 0 meaning unbounded.
// An end after 2262 is as good as unbounded. An end of exactly the epoch is
// moved one nanosecond earlier so that it is not mistaken for "unbounded".
func endNs(t time.Time) (int64, bool) {
	if t.IsZero() || !t.Before(maxNs) {
		return 0, true
	}
	if !t.After(minNs) {
		return 0, false
	}
	if ns := t.UnixNano(); ns != 0 {
		return ns, true
	}
	return -1, true
}
