package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Route classes of the rate limits.
const (
	ClassRead       = "read"       // read, vread, capabilities
	ClassSearch     = "search"     // search, history, paging, operations other than $everything
	ClassEverything = "everything" // $everything
	ClassWrite      = "write"      // create, update, patch, delete, batch/transaction
	ClassAdmin      = "admin"      // /admin/*
)

var classNames = [...]string{ClassRead, ClassSearch, ClassEverything, ClassWrite, ClassAdmin}

// Caller dimensions of the rate limits: each has its own bucket.
const (
	dimSubject = iota
	dimClient
	dimOrg
	numDims
)

var dimNames = [numDims]string{"subject", "client", "org"}

// Limit is a token bucket: Rate tokens a second, at most Burst saved up.
// Rate 0 means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// Defaults of RateLimits: generous enough that no interactive user or
// ordinary integration meets them, low enough that one runaway caller
// cannot monopolise the proxy or the FHIR server. Client buckets are
// DefaultClientFactor times, organisation buckets DefaultOrgFactor times
// the subject's.
var (
	DefaultReadLimit       = Limit{Rate: 100, Burst: 400}
	DefaultSearchLimit     = Limit{Rate: 50, Burst: 200}
	DefaultEverythingLimit = Limit{Rate: 5, Burst: 20}
	DefaultWriteLimit      = Limit{Rate: 50, Burst: 200}
	DefaultAdminLimit      = Limit{Rate: 20, Burst: 100}
)

// Defaults of RateLimits.
const (
	DefaultClientFactor = 20
	DefaultOrgFactor    = 50
	DefaultMaxTracked   = 1_000_000
)

// RateLimits configures the per-caller token buckets (ratelimit.go). The
// zero value of each field but Enabled means its Default. A library user
// opts in with Enabled; `ds4p serve` enables them by default
// (protection.rate_limits in the configuration).
type RateLimits struct {
	// Enabled turns rate limiting on.
	Enabled bool
	// Per route class, the limit of one subject.
	Read, Search, Everything, Write, Admin Limit
	// ClientFactor and OrgFactor scale the subject's limits for the
	// buckets of a client and of an organisation.
	ClientFactor, OrgFactor float64
	// MaxTracked bounds the buckets kept in memory; the least recently
	// used one is dropped beyond it (a dropped bucket that had refilled
	// loses nothing; one that had not starts full again, counted by the
	// ds4p.rate_limit.evictions metric with full=false).
	MaxTracked int
}

func (r RateLimits) withDefaults() RateLimits {
	def := func(l *Limit, d Limit) {
		if *l == (Limit{}) {
			*l = d
		}
	}
	def(&r.Read, DefaultReadLimit)
	def(&r.Search, DefaultSearchLimit)
	def(&r.Everything, DefaultEverythingLimit)
	def(&r.Write, DefaultWriteLimit)
	def(&r.Admin, DefaultAdminLimit)
	if r.ClientFactor == 0 {
		r.ClientFactor = DefaultClientFactor
	}
	if r.OrgFactor == 0 {
		r.OrgFactor = DefaultOrgFactor
	}
	if r.MaxTracked == 0 {
		r.MaxTracked = DefaultMaxTracked
	}
	return r
}

func (r RateLimits) validate() []error {
	var errs []error
	for i, l := range r.limits() {
		if l.Rate < 0 || l.Burst < 0 || math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) {
			errs = append(errs, fmt.Errorf("protection.rate_limits.%s: rate and burst must not be negative", classNames[i]))
		} else if l.Rate > 0 && l.Burst < 1 {
			errs = append(errs, fmt.Errorf("protection.rate_limits.%s: a rate needs a burst of at least 1", classNames[i]))
		}
	}
	if r.ClientFactor < 0 || r.OrgFactor < 0 || r.MaxTracked < 0 {
		errs = append(errs, errors.New("protection.rate_limits: client_factor, org_factor and max_tracked must not be negative"))
	}
	return errs
}

func (r RateLimits) limits() [len(classNames)]Limit {
	return [...]Limit{r.Read, r.Search, r.Everything, r.Write, r.Admin}
}

// bucketParams is a Limit in the units the buckets use.
type bucketParams struct {
	perNS float64 // tokens per nanosecond; 0: unlimited
	burst float64
}

// limiter holds token buckets in a fixed number of shards, each a map
// from a keyed 64-bit hash of (class, dimension, value) to a slot of an
// arena with an intrusive LRU list: no pointers for the GC to walk, and
// at most MaxTracked buckets however many callers there are.
type limiter struct {
	params [len(classNames)][numDims]bucketParams
	seed   maphash.Seed
	shards [limiterShards]lshard
	now    func() time.Time
	// evictedNotFull counts evictions of buckets that had not refilled.
	evictedNotFull atomic.Int64
}

const limiterShards = 64

type lshard struct {
	mu   sync.Mutex
	idx  map[uint64]int32
	ents []lentry
	head int32 // most recently used, -1 when empty
	tail int32
	max  int
	_    [40]byte // keep shards on separate cache lines
}

// lentry is one token bucket (32 bytes).
type lentry struct {
	key        uint64
	last       int64 // unix ns of the last refill
	tokens     float32
	noted      int32 // unix seconds / 64 of the last rate_limited event
	prev, next int32
}

func newLimiter(r RateLimits) *limiter {
	l := &limiter{seed: maphash.MakeSeed(), now: monotonicNow}
	factors := [numDims]float64{1, r.ClientFactor, r.OrgFactor}
	for c, lim := range r.limits() {
		for d := range numDims {
			if lim.Rate > 0 && factors[d] > 0 {
				l.params[c][d] = bucketParams{perNS: lim.Rate * factors[d] / 1e9, burst: math.Max(1, float64(lim.Burst)*factors[d])}
			}
		}
	}
	per := max(1, (r.MaxTracked+limiterShards-1)/limiterShards)
	for i := range l.shards {
		l.shards[i] = lshard{idx: map[uint64]int32{}, head: -1, tail: -1, max: per}
	}
	return l
}

func classIndex(class string) int {
	for i, n := range classNames {
		if n == class {
			return i
		}
	}
	return 0
}

// clockStart anchors monotonicNow.
var clockStart = time.Now()

// monotonicNow is the time the limiter and the bulk detector count by:
// the wall time at start advanced by the monotonic clock, so that a step
// of the system clock (NTP, a VM resumed, an operator's date) neither
// drains every bucket for as long as a step back (time.Now().UnixNano()
// is the wall clock: an hour back refused every caller for an hour) nor
// stretches or empties the bulk windows.
func monotonicNow() time.Time { return clockStart.Add(time.Since(clockStart)) }

// verdict is the answer for one request.
type verdict struct {
	ok         bool
	retryAfter time.Duration
	dim        int  // the dimension that refused
	note       bool // first refusal of that bucket in about a minute: raise an event
}

// allow takes one token from each of the caller's buckets for the class,
// or none: when one refuses, the tokens already taken are given back.
func (l *limiter) allow(class int, values [numDims]string) verdict {
	now := l.now().UnixNano()
	var taken [numDims]uint64
	for d, v := range values {
		p := l.params[class][d]
		if v == "" || p.perNS == 0 {
			continue
		}
		key := l.key(class, d, v)
		ok, wait, note := l.take(key, p, now)
		if !ok {
			// Each bucket gets its token back under its own burst: the
			// refusing bucket's capped the refund, so a subject whose
			// organisation's burst is smaller (org_factor < 1) lost
			// tokens to every refusal of the organisation.
			for td := range d {
				if taken[td] != 0 {
					l.refund(taken[td], l.params[class][td], now)
				}
			}
			return verdict{retryAfter: max(wait, l.waitAfter(class, values, d, now)), dim: d, note: note}
		}
		taken[d] = key
	}
	return verdict{ok: true}
}

// allowN takes n tokens from each of the caller's buckets for the class
// when each holds at least one, leaving the subject's bucket in debt when
// it holds fewer than n; or none, as allow does. The client's and the
// organisation's buckets, which other callers share, go at most one burst
// into debt (sharedFloor): one caller's Bundle of many entries made every
// other user of its client and organisation wait out its whole debt (a
// 16 MiB Bundle of $everything entries: the organisation's $everything for
// ~23 minutes). took is what was taken from each bucket, for refundTaken.
func (l *limiter) allowN(class int, values [numDims]string, n int) (v verdict, took [numDims]float64) {
	if n <= 1 {
		v = l.allow(class, values)
		if v.ok {
			for d, val := range values {
				if val != "" && l.params[class][d].perNS != 0 {
					took[d] = 1
				}
			}
		}
		return v, took
	}
	now := l.now().UnixNano()
	for d, val := range values {
		p := l.params[class][d]
		if val == "" || p.perNS == 0 {
			continue
		}
		floor := math.Inf(-1)
		if d != dimSubject {
			floor = sharedFloor(p)
		}
		t, wait, note := l.takeN(l.key(class, d, val), p, now, float64(n), floor)
		if t == 0 {
			l.refundTaken(class, values, took)
			return verdict{retryAfter: max(wait, l.waitAfter(class, values, d, now)), dim: d, note: note}, [numDims]float64{}
		}
		took[d] = t
	}
	return verdict{ok: true}, took
}

// sharedFloor is the lowest a shared bucket (client, organisation) may go:
// one burst into debt, so that the others sharing it wait about two
// bursts' refill at most after one caller's large batch.
func sharedFloor(p bucketParams) float64 { return -p.burst }

// refundTaken gives back what allowN(class, values, n) took.
func (l *limiter) refundTaken(class int, values [numDims]string, took [numDims]float64) {
	for d, v := range values {
		p := l.params[class][d]
		if v == "" || p.perNS == 0 || took[d] == 0 {
			continue
		}
		l.refundTokens(l.key(class, d, v), p, took[d])
	}
}

// key is a keyed hash of (class, dimension, value): the value's maphash
// under the process's random seed, moved by an odd constant per class and
// dimension (a bijection, so two values collide in one class only if
// their 64-bit hashes do).
func (l *limiter) key(class, dim int, v string) uint64 {
	return maphash.String(l.seed, v) + uint64(class<<4|dim+1)*0x9E3779B97F4A7C15
}

func (l *limiter) shard(key uint64) *lshard { return &l.shards[key%limiterShards] }

// take refills and takes a token from the bucket of key.
func (l *limiter) take(key uint64, p bucketParams, now int64) (ok bool, wait time.Duration, note bool) {
	taken, wait, note := l.takeN(key, p, now, 1, math.Inf(-1))
	return taken > 0, wait, note
}

// takeN refills the bucket of key and, when it holds a token, takes n,
// leaving it no lower than floor; taken is what it took (0: refused).
func (l *limiter) takeN(key uint64, p bucketParams, now int64, n, floor float64) (taken float64, wait time.Duration, note bool) {
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(key, p, now, l)
	// A clock that went back (a test's, or a wall clock before
	// monotonicNow) refills nothing and takes nothing: a negative elapsed
	// time would drain every bucket for as long as the step.
	tokens := math.Min(p.burst, float64(e.tokens)+float64(max(0, now-e.last))*p.perNS)
	e.last = now
	if tokens >= 1 {
		left := math.Max(tokens-n, math.Min(floor, tokens-1))
		e.tokens = float32(left)
		return tokens - left, 0, false
	}
	e.tokens = float32(tokens)
	minute := int32(now / int64(64*time.Second))
	note = e.noted != minute
	e.noted = minute
	return 0, time.Duration(math.Ceil((1 - tokens) / p.perNS)), note
}

// waitAfter is how long the caller's buckets of the class after dimension
// d (which refused) would still refuse: Retry-After is the longest wait of
// them all, so that a caller retrying when told is not refused again by
// another of its buckets (its subject's held it for a second while its
// organisation's was empty for a minute). The buckets before d gave a
// token, so they hold one. Nothing is taken.
func (l *limiter) waitAfter(class int, values [numDims]string, d int, now int64) time.Duration {
	var longest time.Duration
	for od := d + 1; od < numDims; od++ {
		p := l.params[class][od]
		if values[od] == "" || p.perNS == 0 {
			continue
		}
		key := l.key(class, od, values[od])
		s := l.shard(key)
		s.mu.Lock()
		if i, ok := s.idx[key]; ok {
			e := s.ents[i]
			if tokens := math.Min(p.burst, float64(e.tokens)+float64(max(0, now-e.last))*p.perNS); tokens < 1 {
				longest = max(longest, time.Duration(math.Ceil((1-tokens)/p.perNS)))
			}
		}
		s.mu.Unlock()
	}
	return longest
}

// refund gives back one token to the bucket of key, if it is still held.
func (l *limiter) refund(key uint64, p bucketParams, now int64) { l.refundTokens(key, p, 1) }

// refundTokens gives back n tokens to the bucket of key, if it is still
// held.
func (l *limiter) refundTokens(key uint64, p bucketParams, n float64) {
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.idx[key]; ok {
		e := &s.ents[i]
		e.tokens = float32(math.Min(p.burst, float64(e.tokens)+n))
	}
}

// get returns the bucket of key, most recently used now; a new one starts
// full, in a new slot or in the least recently used one's.
func (s *lshard) get(key uint64, p bucketParams, now int64, l *limiter) *lentry {
	if i, ok := s.idx[key]; ok {
		s.touch(i)
		return &s.ents[i]
	}
	var i int32
	if len(s.ents) < s.max {
		s.ents = append(s.ents, lentry{})
		i = int32(len(s.ents) - 1)
	} else {
		i = s.tail
		old := s.ents[i]
		if float64(old.tokens)+float64(max(0, now-old.last))*p.perNS < p.burst {
			l.evictedNotFull.Add(1)
			rateLimitEvictions.Add(context.Background(), 1, metric.WithAttributes(attribute.Bool("full", false)))
		}
		delete(s.idx, old.key)
		s.unlink(i)
	}
	s.ents[i] = lentry{key: key, last: now, tokens: float32(p.burst), noted: -1, prev: -1, next: -1}
	s.idx[key] = i
	s.pushFront(i)
	return &s.ents[i]
}

func (s *lshard) touch(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

func (s *lshard) unlink(i int32) {
	e := &s.ents[i]
	if e.prev >= 0 {
		s.ents[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.ents[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *lshard) pushFront(i int32) {
	e := &s.ents[i]
	e.prev, e.next = -1, s.head
	if s.head >= 0 {
		s.ents[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

// tracked counts the buckets held.
func (l *limiter) tracked() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.idx)
		s.mu.Unlock()
	}
	return n
}

var (
	rateLimitMeter      = otel.Meter("github.com/ds4p/ds4p/proxy")
	rateLimitRefusals   metric.Int64Counter
	rateLimitEvictions  metric.Int64Counter
	rateLimitAttrsCache sync.Map // class/dim → metric.AddOption
)

func init() {
	rateLimitRefusals, _ = rateLimitMeter.Int64Counter("ds4p.rate_limit.refusals",
		metric.WithDescription("requests refused with 429 by the per-caller rate limits, by route class and the bucket that refused"))
	rateLimitEvictions, _ = rateLimitMeter.Int64Counter("ds4p.rate_limit.evictions",
		metric.WithDescription("rate-limit buckets dropped to stay within max_tracked; full=false lost a partly spent bucket"))
}

func refusalAttrs(class, dim int) metric.AddOption {
	k := class<<4 | dim
	if v, ok := rateLimitAttrsCache.Load(k); ok {
		return v.(metric.AddOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(attribute.String("class", classNames[class]), attribute.String("dimension", dimNames[dim])))
	rateLimitAttrsCache.Store(k, o)
	return o
}

// fhirClass is the route class of a request below /fhir.
func fhirClass(method, path string) int {
	if _, ok := pageTokenOf(path); ok {
		return 1 // search
	}
	req, err := parseFHIRPath(method, path)
	if err != nil {
		return 0 // refused later with 400; counted as a read
	}
	switch req.Interaction {
	case Read, VRead, Capabilities:
		return 0
	case Create, Update, Patch, Delete, Batch:
		return 3
	case Operation:
		if req.Operation == "$everything" {
			return 2
		}
	}
	return 1
}

// rateLimitFHIR and rateLimitAdmin run after authentication: the caller
// is known, and nothing has been sent upstream.
func (s *Server) rateLimitFHIR(c *gin.Context) {
	class := fhirClass(c.Request.Method, c.Param("path"))
	if s.limits != nil && class == 3 && isBatchRequest(c.Request.Method, c.Param("path")) {
		s.rateLimitBatch(c)
		return
	}
	s.rateLimit(c, class)
}

func isBatchRequest(method, path string) bool {
	req, err := parseFHIRPath(method, path)
	return err == nil && req.Interaction == Batch
}

// rateLimitBatch charges a batch or transaction as the requests its
// entries stand for: one write token for the Bundle, then one token of
// each entry's class as the same request sent alone (a GET entry a read,
// search or $everything, a POSTed operation a search or $everything, any
// other a write).
// A Bundle of ten thousand GETs was one write token, so the read and
// search limits were no limit to a caller that batched its reads. The
// entries' tokens are taken when each bucket holds at least one, and may
// leave it in debt: a Bundle larger than the burst passes, and the caller
// waits for the refill before the next request of that class.
func (s *Server) rateLimitBatch(c *gin.Context) {
	caller := callerOf(c)
	vals := [numDims]string{caller.Subject, caller.Client, caller.Org}
	// The Bundle's own write token first: a caller already throttled gets
	// its 429 before its body (up to max_request_body_bytes) is read and
	// decoded, which cost as much as a request served.
	v, bundleTook := s.limits.allowN(3, vals, 1)
	if !v.ok {
		s.refuseRate(c, 3, v)
		return
	}
	counts, ok := s.batchEntryClasses(c)
	if !ok {
		s.limits.refundTaken(3, vals, bundleTook)
		return // answered
	}
	type charge struct{ class, n int }
	charges := []charge{{3, 0}} // the Bundle's, taken above
	for class, n := range counts {
		if n > 0 {
			charges = append(charges, charge{class, n})
		}
	}
	took := make([][numDims]float64, len(charges))
	took[0] = bundleTook
	for i, ch := range charges {
		if i == 0 {
			continue
		}
		v, t := s.limits.allowN(ch.class, vals, ch.n)
		if !v.ok {
			for j, done := range charges[:i] {
				s.limits.refundTaken(done.class, vals, took[j])
			}
			s.refuseRate(c, ch.class, v)
			return
		}
		took[i] = t
	}
	c.Next()
}

// batchEntryClasses reads a batch's body (restoring it for the handler)
// and counts its entries by route class. A body the handler will refuse
// (too large, not a Bundle) counts no entry: the handler answers it.
func (s *Server) batchEntryClasses(c *gin.Context) (counts [len(classNames)]int, ok bool) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return counts, true
	}
	limit := s.opts.MaxRequestBodyBytes
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "the request body could not be read")
		c.Abort()
		return counts, false
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if int64(len(buf)) > limit {
		return counts, true // 413 from the handler
	}
	var b struct {
		Entry []struct {
			Request struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
		} `json:"entry"`
	}
	if json.Unmarshal(buf, &b) != nil {
		return counts, true // 400 from the handler
	}
	for _, e := range b.Entry {
		m := strings.ToUpper(e.Request.Method)
		path, _, _ := strings.Cut(e.Request.URL, "?")
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if m != http.MethodGet && m != http.MethodHead {
			// Charged as the same request sent alone: a POSTed
			// Patient/$everything took a write token, and the
			// everything bucket none. An entry that does not parse
			// (refused later) is a write.
			class := fhirClass(m, path)
			if class == 0 {
				class = 3
			}
			counts[class]++
			continue
		}
		class := fhirClass(http.MethodGet, path)
		if class == 0 && strings.Contains(e.Request.URL, "?") {
			class = 1 // a query on a read is a search's cost at least
		}
		counts[class]++
	}
	return counts, true
}

func (s *Server) rateLimitAdmin(c *gin.Context) { s.rateLimit(c, classAdmin) }

// classAdmin is the index of ClassAdmin in classNames.
const classAdmin = 4

// AllowAdmin charges one request of caller to its admin buckets, as a
// request to /admin is charged, and says how long to wait when one of them
// is empty (the refusal is counted, logged and raised as /admin's is). The
// web console answers some of its auditors' and policy authors' calls
// itself (the break-the-glass queue, reviews, verification, charts, the
// Rego tests, the label rules), reading what /admin serves under this
// limit: they are charged here (QA round 40, helper B).
func (s *Server) AllowAdmin(ctx context.Context, requestID string, caller authn.Caller) (retryAfter time.Duration, ok bool) {
	if s.limits == nil {
		return 0, true
	}
	v := s.limits.allow(classAdmin, [numDims]string{caller.Subject, caller.Client, caller.Org})
	if v.ok {
		return 0, true
	}
	s.noteRefusal(ctx, requestID, caller, classAdmin, v)
	return v.retryAfter, false
}

func (s *Server) rateLimit(c *gin.Context, class int) {
	if s.limits == nil {
		c.Next()
		return
	}
	caller := callerOf(c)
	v := s.limits.allow(class, [numDims]string{caller.Subject, caller.Client, caller.Org})
	if v.ok {
		c.Next()
		return
	}
	s.refuseRate(c, class, v)
}

// refuseRate answers 429 for the bucket of v that refused.
// noteRefusal counts a refused request of caller in class, and logs it and
// raises a security event when v says this refusal is one to note.
func (s *Server) noteRefusal(ctx context.Context, requestID string, caller authn.Caller, class int, v verdict) {
	rateLimitRefusals.Add(ctx, 1, refusalAttrs(class, v.dim))
	if !v.note {
		return
	}
	s.log.Warn("rate limit reached", "request_id", requestID, "class", classNames[class],
		"dimension", dimNames[v.dim], "caller_subject", logSubject(caller), "caller_org", caller.Org, "caller_client", caller.Client)
	s.emit(siem.Event{Kind: siem.KindRateLimited, Severity: siem.SeverityWarning, RequestID: requestID,
		Subject: logSubject(caller), Org: caller.Org, Client: caller.Client,
		Class: classNames[class], Dimension: dimNames[v.dim], Reason: "rate limit reached"})
}

func (s *Server) refuseRate(c *gin.Context, class int, v verdict) {
	s.noteRefusal(c.Request.Context(), c.GetString(requestIDKey), callerOf(c), class, v)
	secs := max(1, int(math.Ceil(v.retryAfter.Seconds())))
	c.Writer.Header().Set("Retry-After", strconv.Itoa(secs))
	writeOutcome(c.Writer, http.StatusTooManyRequests, "throttled",
		fmt.Sprintf("rate limit of this caller's %s for %s requests reached; retry after %d s", dimNames[v.dim], classNames[class], secs))
	c.Abort()
}
