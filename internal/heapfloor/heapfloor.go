// Package heapfloor keeps Go's collector from running every few
// milliseconds while the live heap is small.
//
// A proxy's live heap is small (ds4p serving reads: ~4 MB) while it
// allocates quickly, so with GOGC=100 the collector runs whenever the heap
// reaches about twice that: 40 times a second at 3,000 reads/s on two
// cores, where marking and its write barriers took about a fifth of the
// process's CPU. Go has no setting for a minimum heap goal (golang/go#23044
// was put on hold); what large Go proxies use instead is a ballast: one
// large allocation that is never touched. The collector counts it as live
// heap, so the goal becomes (live + ballast) × (1 + GOGC/100) instead of
// live × (1 + GOGC/100), and it costs no memory of its own: the kernel
// backs pages only when they are written, and the runtime neither zeroes
// (it comes straight from the operating system) nor scans (no pointers)
// it.
//
// Unlike a larger GOGC, a ballast adds to the goal rather than multiplying
// it: a response that briefly holds 50 MB lets the heap grow to
// 2 × (50 MB + floor), not 50 MB × (1 + GOGC/100).
//
// What it costs: up to about floor bytes more resident memory between
// collections (garbage the collector has not yet reclaimed), and the
// ballast counts against GOMEMLIMIT as if it were resident.
package heapfloor

import (
	"math"
	"runtime/debug"
	"sync"
)

var (
	mu      sync.Mutex
	ballast []byte // reachable as long as the program runs; never read or written
)

// Set makes the collector's heap goal at least about twice bytes (at
// GOGC=100), replacing any floor set before; bytes <= 0 removes it. It
// returns the floor in effect, which is smaller than asked when a memory
// limit is set (GOMEMLIMIT or debug.SetMemoryLimit): at most a quarter of
// the limit, so that the collector still has three quarters of the
// limit for live data before it works harder.
func Set(bytes int64) int64 {
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 && bytes > limit/4 {
		bytes = limit / 4
	}
	mu.Lock()
	defer mu.Unlock()
	if bytes <= 0 {
		ballast = nil
		return 0
	}
	ballast = nil
	ballast = fresh(bytes)
	return bytes
}

// fresh allocates an untouched ballast of n bytes. An allocation this large
// is a span of its own, which the runtime leaves unzeroed only when it sees
// all of it as never used before. It zeroes the whole span, so that the
// kernel backs every page, when the span starts on pages a collection freed,
// or when another goroutine's allocation just beyond the span's end
// registers first (mheap.allocNeedsZero). Both depend on timing, so fresh
// checks (mincore) and tries again while the previous tries are still held,
// so that each lands on pages never used before; then it returns the
// zeroed tries' memory to the operating system. After a few tries it keeps
// the last one: a resident floor is correct, only dearer.
func fresh(n int64) []byte {
	const tries = 4
	var zeroed [][]byte
	b := make([]byte, n)
	for k := 1; k < tries && resident(b); k++ {
		zeroed = append(zeroed, b)
		b = make([]byte, n)
	}
	if len(zeroed) > 0 {
		clear(zeroed)
		debug.FreeOSMemory()
	}
	return b
}

// Floor reports the floor in effect.
func Floor() int64 {
	mu.Lock()
	defer mu.Unlock()
	return int64(len(ballast))
}
