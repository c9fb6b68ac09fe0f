package consent

import (
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// errBadTime reports a value that is not a FHIR date or dateTime.
var errBadTime = errors.New("not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss[.fff]+zz:zz)")

// span is the interval of time a FHIR date or dateTime covers, [start, end).
type span struct {
	start, end time.Time
	// zoneless is true for a date without a time read with no date zone
	// set: its day may begin anywhere from 14 hours before to 12 hours
	// after UTC's (UTC+14 to UTC-12).
	zoneless bool
}

// Offsets of the earliest and latest time zones in use: a zoneless day
// begins at the earliest dayAhead before, and at the latest dayBehind after,
// the same day in UTC.
const (
	dayAhead  = 14 * time.Hour
	dayBehind = 12 * time.Hour
)

// dateZone is the zone dates without a time are read in; nil when none is
// set (SetDateZone).
var dateZone atomic.Pointer[time.Location]

// SetDateZone sets the zone in which a consent's dates without a time
// ("2027-01-01" in a period or dataPeriod) are read: the site's own, the
// one its consent forms are signed in. nil, the default, leaves them
// zoneless, as FHIR has them; the policy form then reads such a bound the
// safe way (Cond.settle). It applies to consents normalised after the
// call: serve sets it once at start.
func SetDateZone(loc *time.Location) { dateZone.Store(loc) }

// parseSpan parses a FHIR date or dateTime into the interval it covers. FHIR
// values are inclusive at their precision: "2027-01-01" covers the whole day,
// so its exclusive end is 2027-01-02T00:00:00Z. Dates without a time carry no
// zone in FHIR; they are read in the date zone when one is set (SetDateZone),
// otherwise as UTC and marked zoneless.
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
	loc := dateZone.Load()
	t, err := time.ParseInLocation(layout, s, cmpOr(loc, time.UTC))
	if err != nil {
		return span{}, errBadTime
	}
	return span{start: t.UTC(), end: t.AddDate(years, months, days).UTC(), zoneless: loc == nil}, nil
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

// cmpOr returns loc, or def when loc is nil.
func cmpOr(loc, def *time.Location) *time.Location {
	if loc == nil {
		return def
	}
	return loc
}

// DateSpan returns the instants a FHIR date or dateTime may name, [start,
// end) in unix ns: a dateTime one unit of its last digit, a date its whole
// day, month or year, read in the date zone (SetDateZone), or with none set
// from its beginning in the earliest zone in use (UTC+14) to its end in the
// latest (UTC-12); so is a dateTime without its zone, which FHIR forbids
// but a lax server stores (zonelessDateTimeSpan). A value that is not a
// FHIR date or dateTime, or that lies outside the years 1678 to 2262, is an
// error.
func DateSpan(s string) (start, end int64, err error) {
	sp, err := parseSpan(s)
	if err != nil {
		if sp, err = zonelessDateTimeSpan(s); err != nil {
			return 0, 0, err
		}
	}
	if sp.zoneless {
		sp.start, sp.end = sp.start.Add(-dayAhead), sp.end.Add(dayBehind)
	}
	if !sp.start.After(minNs) || !sp.end.Before(maxNs) {
		return 0, 0, errBadTime
	}
	return sp.start.UnixNano(), sp.end.UnixNano(), nil
}

// zonelessDateTimeSpan reads a dateTime with seconds but no zone
// ("2020-03-01T10:00:00"), which FHIR forbids and a lax server stores as
// sent: in the date zone when one is set, otherwise as a time in any zone
// in use (zoneless). Read as no date at all, every record so dated was
// withheld from a caller a data period permits (QA round 36, area F).
func zonelessDateTimeSpan(s string) (span, error) {
	if len(s) < len("2006-01-02T15:04:05") || s[10] != 'T' || strings.ContainsAny(s[10:], "Z+-") {
		return span{}, errBadTime
	}
	loc := dateZone.Load()
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, cmpOr(loc, time.UTC))
	if err != nil {
		return span{}, errBadTime
	}
	return span{start: t.UTC(), end: t.Add(precision(s)).UTC(), zoneless: loc == nil}, nil
}
