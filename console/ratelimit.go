package console

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// loginLimiter is a token bucket per client IP for sign-ins: each sign-in
// verifies a token and may evict sessions, so a caller gets burst of them
// at once and then one every interval.
type loginLimiter struct {
	mu       sync.Mutex
	buckets  map[string]*bucket
	burst    float64
	interval time.Duration
	max      int // bounds the IPs tracked
	now      func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLoginLimiter(burst int, interval time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{buckets: map[string]*bucket{}, burst: float64(burst), interval: interval, max: 10_000, now: now}
}

// allow takes a token of ip's bucket; when there is none it says how long
// until there is.
func (l *loginLimiter) allow(ip string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[ip] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.interval))
		b.last = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.interval))
	}
	b.tokens--
	return true, 0
}

// sweep forgets the buckets that refilled (they start full anyway) and,
// when none did, one at random, so the map stays bounded.
func (l *loginLimiter) sweep(now time.Time) {
	full := time.Duration(l.burst * float64(l.interval))
	n := len(l.buckets)
	for ip, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) == n {
		for ip := range l.buckets {
			delete(l.buckets, ip)
			break
		}
	}
}

// clientIP is the address the request came from (the connection's peer;
// forwarding headers are not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfter is a Retry-After value, whole seconds rounded up.
func retryAfter(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	return strconv.Itoa(max(s, 1))
}
