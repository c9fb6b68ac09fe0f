package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
)

// idAuth accepts tokens "subject|org|client|scopes": each caller
// dimension is set apart from the others.
type idAuth struct{}

func (idAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	p := strings.Split(raw, "|")
	if len(p) != 4 {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	return authn.Caller{Subject: p[0], Org: p[1], Client: p[2], Scopes: strings.Fields(p[3]), Purposes: []string{"TREAT"}}, nil
}

// recEvents records emitted security events.
type recEvents struct {
	mu  sync.Mutex
	evs []siem.Event
}

func (r *recEvents) Emit(ev siem.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

func (r *recEvents) kinds() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, e := range r.evs {
		out[e.Kind]++
	}
	return out
}

// countingUpstream answers every request with a Patient and counts them.
func countingUpstream(n *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		if strings.Contains(r.URL.Path, "/Patient/") && !strings.HasSuffix(r.URL.Path, "$everything") {
			_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"p9"}`))
			return
		}
		_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[]}`))
	}
}

func withLimits(rl RateLimits, ev *recEvents) harnessOpt {
	return func(o *Options, d *Deps) {
		rl.Enabled = true
		o.Protection.RateLimits = rl
		d.Auth = idAuth{}
		if ev != nil {
			d.Events = ev
		}
	}
}

const readScopes = "user/*.read"

// TestRateLimitPerCaller: a caller over its limit gets 429 with an
// OperationOutcome and Retry-After, nothing reaches the upstream, and
// another caller is unaffected.
func TestRateLimitPerCaller(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	ev := &recEvents{}
	slow := Limit{Rate: 0.01, Burst: 3}
	h := newHarness(t, countingUpstream(&hits), withLimits(RateLimits{Read: slow, ClientFactor: 100, OrgFactor: 100}, ev))
	alice, bob := "alice|Organization/a|app-a|"+readScopes, "bob|Organization/b|app-b|"+readScopes
	for i := range 3 {
		if resp, body := h.get("/fhir/Patient/p9", alice); resp.StatusCode != 200 {
			t.Fatalf("read %d within the burst: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := h.get("/fhir/Patient/p9", alice, "X-Request-Id", "over-1")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th read: %d %s, want 429", resp.StatusCode, body)
	}
	var oo struct {
		ResourceType string
		Issue        []struct{ Code string }
	}
	if err := json.Unmarshal([]byte(body), &oo); err != nil || oo.ResourceType != "OperationOutcome" || oo.Issue[0].Code != "throttled" {
		t.Fatalf("429 body = %s (%v), want an OperationOutcome with code throttled", body, err)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 90 || ra > 101 { // one token at 0.01/s: 100 s, less what refilled
		t.Fatalf("Retry-After = %q, want about 100 seconds", resp.Header.Get("Retry-After"))
	}
	if hits.Load() != 3 {
		t.Fatalf("upstream saw %d requests, want 3: a refused request must not reach it", hits.Load())
	}
	if resp, body := h.get("/fhir/Patient/p9", bob); resp.StatusCode != 200 {
		t.Fatalf("another caller: %d %s, want 200", resp.StatusCode, body)
	}
	h.get("/fhir/Patient/p9", alice) // refused again: no second event within the minute
	if k := ev.kinds(); k[siem.KindRateLimited] != 1 {
		t.Fatalf("events = %v, want one rate_limited", k)
	}
	ev.mu.Lock()
	e := ev.evs[0]
	ev.mu.Unlock()
	if e.RequestID != "over-1" || e.Subject != "alice" || e.Class != ClassRead || e.Dimension != "subject" {
		t.Fatalf("event = %+v", e)
	}
}

// TestRateLimitRouteClassesSeparate: an exhausted read budget leaves
// searches, $everything and the admin API their own.
func TestRateLimitRouteClassesSeparate(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	one := Limit{Rate: 0.001, Burst: 1}
	h := newHarness(t, countingUpstream(&hits), withLimits(RateLimits{Read: one, Search: one, Everything: one, Admin: one,
		ClientFactor: 100, OrgFactor: 100}, nil))
	tok := "carol|Organization/c|app-c|" + readScopes + " " + authn.AuditorScope
	steps := []struct {
		path string
		want int
	}{
		{"/fhir/Patient/p9", 200},
		{"/fhir/Patient/p9", 429},
		{"/fhir/Patient?name=x", 200},
		{"/fhir/Patient?name=y", 429},
		{"/fhir/Patient/p9/$everything", 200},
		{"/fhir/Patient/p9/$everything", 429},
		{"/admin/alerts", 200},
		{"/admin/alerts", 429},
	}
	for _, s := range steps {
		if resp, body := h.get(s.path, tok); resp.StatusCode != s.want {
			t.Fatalf("GET %s = %d %s, want %d", s.path, resp.StatusCode, body, s.want)
		}
	}
}

// TestRateLimitOrgBucketShared: two subjects of one organisation share the
// organisation's bucket; a third organisation is unaffected.
func TestRateLimitOrgBucketShared(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	h := newHarness(t, countingUpstream(&hits), withLimits(RateLimits{Read: Limit{Rate: 0.001, Burst: 2}, ClientFactor: 100, OrgFactor: 1}, nil))
	for _, sub := range []string{"d1", "d2"} {
		if resp, _ := h.get("/fhir/Patient/p9", sub+"|Organization/shared|"+sub+"-app|"+readScopes); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", sub, resp.StatusCode)
		}
	}
	resp, body := h.get("/fhir/Patient/p9", "d3|Organization/shared|d3-app|"+readScopes)
	if resp.StatusCode != 429 || !strings.Contains(body, "org") {
		t.Fatalf("third subject of the organisation: %d %s, want 429 by the org bucket", resp.StatusCode, body)
	}
	if resp, _ := h.get("/fhir/Patient/p9", "d4|Organization/other|d4-app|"+readScopes); resp.StatusCode != 200 {
		t.Fatalf("another organisation: %d", resp.StatusCode)
	}
}

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// TestLimiterRefillsAndRefunds checks the bucket arithmetic on a fake
// clock: refill at the rate, Retry-After of the refusing bucket, and no
// token lost from a bucket when another one refuses.
func TestLimiterRefillsAndRefunds(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	l := newLimiter(RateLimits{Read: Limit{Rate: 2, Burst: 2}, ClientFactor: 1, OrgFactor: 0.5}.withDefaults())
	l.now = clock.now
	vals := [numDims]string{"s", "c", "o"}
	// org burst = max(1, 2*0.5) = 1: the org refuses the 2nd request.
	if v := l.allow(0, vals); !v.ok {
		t.Fatal("first request refused")
	}
	v := l.allow(0, vals)
	if v.ok || v.dim != dimOrg || v.retryAfter != time.Second {
		t.Fatalf("second = %+v, want the org bucket to refuse for 1s (rate 1/s)", v)
	}
	// The subject keeps its refunded token: with another org it has one left.
	if v := l.allow(0, [numDims]string{"s", "c", "o2"}); !v.ok {
		t.Fatalf("subject's token was not refunded: %+v", v)
	}
	if v := l.allow(0, [numDims]string{"s", "c2", "o3"}); v.ok || v.dim != dimSubject {
		t.Fatalf("subject's burst of 2 is spent: %+v", v)
	}
	clock.add(500 * time.Millisecond) // 2/s: one token back
	if v := l.allow(0, [numDims]string{"s", "c3", "o4"}); !v.ok {
		t.Fatalf("after 0.5 s at 2/s: %+v", v)
	}
}

// TestLimiterMemoryBound feeds a million distinct callers to a limiter
// capped at 1,000 buckets: it holds at most the cap (the count of
// buckets, not a timing), and the newest callers are the ones held.
func TestLimiterMemoryBound(t *testing.T) {
	t.Parallel()
	l := newLimiter(RateLimits{MaxTracked: 1000}.withDefaults())
	capacity := limiterShards * ((1000 + limiterShards - 1) / limiterShards)
	for i := range 1_000_000 {
		l.allow(0, [numDims]string{"sub-" + strconv.Itoa(i)})
	}
	n := l.tracked()
	if n > capacity || n < capacity-limiterShards {
		t.Fatalf("tracked buckets = %d, want at most %d (and about that many)", n, capacity)
	}
	for i := range l.shards {
		s := &l.shards[i]
		if len(s.ents) != len(s.idx) || len(s.ents) > s.max {
			t.Fatalf("shard %d: %d slots, %d keys, cap %d", i, len(s.ents), len(s.idx), s.max)
		}
	}
	// The last caller is held (most recently used), and its bucket was
	// spent by one token.
	key := l.key(0, dimSubject, "sub-999999")
	s := l.shard(key)
	i, ok := s.idx[key]
	if !ok || s.head != i || s.ents[i].tokens >= float32(DefaultReadLimit.Burst) {
		t.Fatalf("newest caller not held at the head: ok=%v", ok)
	}
	if l.evictedNotFull.Load() == 0 {
		t.Fatal("evicting buckets spent a moment ago must be counted as not full")
	}
}

func TestRateLimitConfigValidation(t *testing.T) {
	t.Parallel()
	bad := RateLimits{Read: Limit{Rate: 5}, Search: Limit{Rate: -1, Burst: 3}, OrgFactor: -2}
	err := Protection{RateLimits: bad}.validate()
	if len(err) != 3 {
		t.Fatalf("errors = %v, want 3 (burst missing, negative rate, negative factor)", err)
	}
}
