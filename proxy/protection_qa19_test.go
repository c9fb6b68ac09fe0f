package proxy

import (
	"testing"
	"time"
)

// TestLimiterClockStepBack: a wall clock stepped back an hour (NTP, a
// resumed VM) must not drain the buckets: a caller with tokens left is
// still let through, and one request later the bucket counts from the
// new time.
func TestLimiterClockStepBack(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC).UnixNano())
	l := newLimiter(RateLimits{Read: Limit{Rate: 100, Burst: 400}}.withDefaults())
	l.now = clock.now
	vals := [numDims]string{"s", "c", "o"}
	if v := l.allow(0, vals); !v.ok {
		t.Fatal("first request refused")
	}
	clock.add(-time.Hour)
	for i := range 10 {
		if v := l.allow(0, vals); !v.ok {
			t.Fatalf("request %d after the clock went back an hour refused for %s (%s bucket)", i, v.retryAfter, dimNames[v.dim])
		}
	}
}
