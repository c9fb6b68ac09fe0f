package bench

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkInFlightMemory measures the memory one request holds while it
// is in flight: the peak of the live heap during a 1,000-entry search
// through the full pipeline (real policy, fsynced ledger), over the live
// heap before it, divided by the upstream body's size (peak-B/body-B; the
// target is at most 2). It counts everything the request keeps alive at
// once: the upstream body, what the pipeline builds from it (items, labels,
// decisions, the ledger entry) and the output on its way to the caller.
//
// How: the collector runs at GOGC=1, so a collection follows every ~1 % of
// heap growth, and a sampler keeps the largest /gc/heap/live:bytes it sees
// (the live heap the last collection marked). Buffer pools are emptied
// before each request (two collections), so recycled buffers count as new.
// identity is a caller without Accept-Encoding; gzip one that accepts it.
//
//	go test -run '^$' -bench InFlightMemory -benchtime 5x ./test/bench/
func BenchmarkInFlightMemory(b *testing.B) {
	up := newPipeUpstream(b)
	px := newPipeProxy(b, up, pipeVariants[0])
	var shape pipeShape
	for _, s := range up.shapes {
		if s.entries == 1000 {
			shape = s
		}
	}
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			serve := func() {
				clear(w.h)
				w.status, w.n = 0, 0
				req := newPipeRequest(shape.path, px.tokens["permissive"])
				if enc == "gzip" {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				px.handler.ServeHTTP(w, req)
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("status %d, %d bytes", w.status, w.n)
				}
			}
			serve() // warm caches and connections
			old := debug.SetGCPercent(1)
			defer debug.SetGCPercent(old)
			var ratios []float64
			for b.Loop() {
				runtime.GC()
				runtime.GC() // sync.Pool keeps a victim cache for one cycle
				base := liveHeap()
				stop := samplePeakLive()
				serve()
				peak := stop()
				ratios = append(ratios, float64(max(peak-base, 0))/float64(len(shape.body)))
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "peak-B/body-B")
			b.ReportMetric(ratios[len(ratios)-1], "max-peak-B/body-B")
			b.ReportMetric(float64(len(shape.body)), "body-B")
		})
	}
}

func newPipeRequest(path, token string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "http://ds4p.bench/fhir"+path, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/fhir+json")
	return req
}

var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func liveHeap() int64 {
	metrics.Read(liveSample)
	return int64(liveSample[0].Value.Uint64())
}

// samplePeakLive watches the live heap until the returned function is
// called, which returns the largest value seen (one final reading included).
func samplePeakLive() func() int64 {
	var (
		mu   sync.Mutex
		peak int64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() {
		metrics.Read(s)
		v := int64(s[0].Value.Uint64())
		mu.Lock()
		peak = max(peak, v)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() int64 {
		close(done)
		wg.Wait()
		read()
		return peak
	}
}
