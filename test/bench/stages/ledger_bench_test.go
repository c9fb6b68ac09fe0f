package stages

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
)

// BenchmarkLedger measures the ledger stage: appending the entries of one
// response (one entry per patient, each listing its disclosed resources) to
// an audit.Ledger on a bbolt file with the wiring's 1 ms batch delay.
//   - fsync/serial: one response at a time, each waiting for its fsync;
//   - fsync/parallel=P: P concurrent responses (b.RunParallel), whose appends
//     bbolt groups into shared commits;
//   - nosync/serial: the same appends without fsync, the CPU cost alone.
//
// entries=1 is what a single read writes. entries/s counts ledger entries.
func BenchmarkLedger(b *testing.B) {
	l := labels.Default()
	for _, c := range corpora(b) {
		results, err := labelAll(l, c)
		if err != nil {
			b.Fatal(err)
		}
		entries := ledgerEntries(results, "bench")
		b.Run("fsync/serial/"+c.name, func(b *testing.B) {
			benchAppendSerial(b, openLedger(b, true), c, entries)
		})
		for _, p := range []int{8, 64} {
			b.Run(fmt.Sprintf("fsync/parallel=%d/%s", p, c.name), func(b *testing.B) {
				benchAppendParallel(b, openLedger(b, true), p, c, entries)
			})
		}
		b.Run("nosync/serial/"+c.name, func(b *testing.B) {
			benchAppendSerial(b, openLedger(b, false), c, entries)
		})
	}
}

// openLedger opens a ledger; a non-durable one is opened durable (Open
// refuses NoSync) and switched to NoSync afterwards, without the journal
// (whose fdatasync NoSync would not skip).
func openLedger(b testing.TB, durable bool) *audit.Ledger {
	db := openDB(b)
	var opts []audit.Option
	if !durable {
		opts = append(opts, audit.WithJournalSize(0))
	}
	led, err := audit.Open(db, opts...)
	if err != nil {
		b.Fatal(err)
	}
	db.NoSync = !durable
	return led
}

func benchAppendSerial(b *testing.B, led *audit.Ledger, c corpus, entries []audit.Entry) {
	ctx := context.Background()
	measure(b, len(c.body), c.entries(), func() error { return led.Append(ctx, entries...) })
	reportLedger(b, len(entries))
}

func benchAppendParallel(b *testing.B, led *audit.Ledger, p int, c corpus, entries []audit.Entry) {
	ctx := context.Background()
	b.SetBytes(int64(len(c.body)))
	b.ReportAllocs()
	b.SetParallelism(max(1, p/runtime.GOMAXPROCS(0)))
	var failed atomic.Bool
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := led.Append(ctx, entries...); err != nil && failed.CompareAndSwap(false, true) {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	runtime.ReadMemStats(&after)
	reportAllocsPerEntry(b, after.Mallocs-before.Mallocs, c.entries())
	reportLedger(b, len(entries))
}

func reportLedger(b *testing.B, perResponse int) {
	secs := b.Elapsed().Seconds()
	if secs <= 0 {
		return
	}
	b.ReportMetric(float64(b.N)/secs, "responses/s")
	b.ReportMetric(float64(b.N*perResponse)/secs, "entries/s")
	b.ReportMetric(float64(perResponse), "entries/response")
}
