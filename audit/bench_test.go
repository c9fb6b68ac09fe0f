package audit

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppendDurable measures fsynced appends of one entry per call, from
// one goroutine and from many, under bbolt's default MaxBatchDelay (10ms) and
// a short one. One caller alone waits out the delay before its commit; many
// callers share each commit's fsync (group commit).
func BenchmarkAppendDurable(b *testing.B) {
	for _, delay := range []time.Duration{10 * time.Millisecond, time.Millisecond} {
		b.Run(fmt.Sprintf("delay=%v/serial", delay), func(b *testing.B) {
			benchmarkSerial(b, delay)
		})
		for _, goroutines := range []int{8, 64, 256} {
			b.Run(fmt.Sprintf("delay=%v/parallel=%d", delay, goroutines), func(b *testing.B) {
				benchmarkParallel(b, delay, goroutines)
			})
		}
	}
}

// benchLedger opens a ledger whose database batches with the given delay.
func benchLedger(b *testing.B, delay time.Duration) *Ledger {
	l := newLedger(b)
	l.db.MaxBatchDelay = delay
	return l
}

// benchmarkSerial appends from one goroutine.
func benchmarkSerial(b *testing.B, delay time.Duration) {
	l := benchLedger(b, delay)
	i := 0
	for b.Loop() {
		i++
		if err := l.Append(b.Context(), sample(i, "Patient/a")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// benchmarkParallel appends from about the given number of goroutines.
func benchmarkParallel(b *testing.B, delay time.Duration, goroutines int) {
	l := benchLedger(b, delay)
	var n atomic.Int64
	b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(b.Context(), sample(int(n.Add(1)), "Patient/a")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
