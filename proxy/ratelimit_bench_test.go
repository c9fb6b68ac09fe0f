package proxy

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
)

// heapAfterGC is the live heap, collected first.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkRateLimitMemoryPerCaller tracks a million callers, each with a
// subject, client and organisation of its own (three buckets: the worst
// case), and reports the live heap per caller and per bucket.
//
//	go test ./proxy -run '^$' -bench RateLimitMemory -benchtime 1x
func BenchmarkRateLimitMemoryPerCaller(b *testing.B) {
	const callers = 1_000_000
	names := make([]string, callers)
	for i := range names {
		names[i] = "caller-" + strconv.Itoa(i)
	}
	var perCaller, perBucket float64
	for b.Loop() {
		before := heapAfterGC()
		l := newLimiter(RateLimits{MaxTracked: 4 * callers}.withDefaults()) // room: shards fill unevenly
		for _, n := range names {
			l.allow(0, [numDims]string{n, n, n})
		}
		after := heapAfterGC()
		if got := l.tracked(); got != 3*callers {
			b.Fatalf("tracked %d buckets, want %d", got, 3*callers)
		}
		perCaller = float64(after-before) / callers
		perBucket = perCaller / 3
		runtime.KeepAlive(l)
	}
	b.ReportMetric(perCaller, "bytes/caller")
	b.ReportMetric(perBucket, "bytes/bucket")
}

// BenchmarkRateLimitAllow is the per-request cost: three buckets (subject,
// client, organisation) among 10,000 tracked callers, from all cores.
//
//	go test ./proxy -run '^$' -bench RateLimitAllow -benchmem
func BenchmarkRateLimitAllow(b *testing.B) {
	l := newLimiter(RateLimits{Read: Limit{Rate: 1e9, Burst: 1e9}}.withDefaults())
	const callers = 10_000
	vals := make([][numDims]string, callers)
	for i := range vals {
		s := strconv.Itoa(i)
		vals[i] = [numDims]string{"sub-" + s, "app-" + strconv.Itoa(i%50), "org-" + strconv.Itoa(i%200)}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			i++
			if !l.allow(0, vals[i%callers]).ok {
				b.Fatal("refused under an unreachable limit")
			}
		}
	})
}

// BenchmarkRateLimitAllowSerial is the same cost on one goroutine, with
// the process CPU time per request (cpu-ns/op) beside the wall time.
//
//	go test ./proxy -run '^$' -bench RateLimitAllowSerial -benchmem
func BenchmarkRateLimitAllowSerial(b *testing.B) {
	l := newLimiter(RateLimits{Read: Limit{Rate: 1e9, Burst: 1e9}}.withDefaults())
	const callers = 10_000
	vals := make([][numDims]string, callers)
	for i := range vals {
		s := strconv.Itoa(i)
		vals[i] = [numDims]string{"sub-" + s, "app-" + strconv.Itoa(i%50), "org-" + strconv.Itoa(i%200)}
	}
	b.ReportAllocs()
	cpu0, i := processCPUNanos(), 0
	for b.Loop() {
		i++
		if !l.allow(0, vals[i%callers]).ok {
			b.Fatal("refused under an unreachable limit")
		}
	}
	b.ReportMetric(float64(processCPUNanos()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBulkObserve is the per-request cost of bulk-access detection
// for a response touching one patient (the common read), among 10,000
// callers and 1,000 patients.
//
//	go test ./proxy -run '^$' -bench BulkObserve -benchmem
func BenchmarkBulkObserve(b *testing.B) {
	d := newBulkDetector(BulkRules{MaxPatients: 1 << 30, MaxWithheld: 1 << 30}.withDefaults())
	callers := make([]authn.Caller, 10_000)
	for i := range callers {
		callers[i] = authn.Caller{Subject: "sub-" + strconv.Itoa(i)}
	}
	entries := make([][]audit.Entry, 1000)
	for i := range entries {
		entries[i] = []audit.Entry{{Patient: "Patient/" + strconv.Itoa(i)}}
	}
	b.ReportAllocs()
	cpu0, i := processCPUNanos(), 0
	for b.Loop() {
		i++
		d.observe(callers[i%len(callers)], entries[i%len(entries)])
	}
	b.ReportMetric(float64(processCPUNanos()-cpu0)/float64(b.N), "cpu-ns/op")
}
