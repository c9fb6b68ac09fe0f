package audit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppendDurable measures fsynced appends of one entry per call
// from 1, 8, 64 and 256 concurrent callers. Concurrent callers share each
// commit and its fsync (groupCommit), so entries/s grows with concurrency
// while one caller alone pays one fsync per entry.
//
// journal=off commits every group to bbolt before Append returns (two
// fdatasyncs); journal=on (the default) returns once the group's journal
// record is fdatasynced, and stores it in bbolt behind (journal.go). The
// benchmark's time includes waiting for the applier at the end.
func BenchmarkAppendDurable(b *testing.B) {
	for _, journal := range []bool{true, false} {
		for _, callers := range []int{1, 8, 64, 256} {
			b.Run(fmt.Sprintf("journal=%s/concurrency=%d", onOff(journal), callers), func(b *testing.B) {
				benchmarkAppend(b, callers, journal)
			})
		}
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// benchmarkAppend appends b.N entries from the given number of goroutines.
func benchmarkAppend(b *testing.B, callers int, journal bool) {
	size := int64(DefaultJournalSize)
	if !journal {
		size = 0
	}
	l := newLedger(b, WithJournalSize(size))
	var n atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := l.Append(b.Context(), sample(int(i), "Patient/a")); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	settle(b, l)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkFindIndexed measures one page of a patient's entries, and of
// break-the-glass entries, in a ledger of 200,000 entries over 1,000
// patients: the indexes make the cost independent of the ledger's size.
func BenchmarkFindIndexed(b *testing.B) {
	l := newLedger(b)
	const total, patients, perCall = 200_000, 1000, 2000
	for start := 0; start < total; start += perCall {
		batch := make([]Entry, perCall)
		for i := range batch {
			seq := start + i
			batch[i] = sample(seq, fmt.Sprintf("Patient/p%d", seq%patients))
			if seq%997 == 0 {
				batch[i].BreakGlass = &BreakGlass{Reason: "emergency"}
			}
		}
		if err := l.Append(b.Context(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct {
		name string
		q    Query
	}{
		{"patient", Query{Patient: "Patient/p123", Limit: 100}},
		{"patient-time-range", Query{Patient: "Patient/p123", From: at(150_000), To: at(160_000), Limit: 100}},
		{"break-glass", Query{BreakGlass: true, Limit: 100}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				got, err := l.Find(b.Context(), q.q)
				if err != nil || len(got) == 0 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
