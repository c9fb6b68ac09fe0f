// Command loadgen is the load test's fallback load generator, for machines
// without wrk: c connections each send GETs back to back until the
// duration or the request budget runs out, then it prints the same RESULT
// line as test/load/wrk.lua.
//
//	go run ./test/load/loadgen -url http://127.0.0.1:8080/fhir/metadata -c 8 -d 5s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

// result is one worker's tally.
type result struct {
	latencies      []time.Duration
	non2xx, errors int
	bytes          int64
}

func main() {
	target := flag.String("url", "", "URL to GET, required")
	conns := flag.Int("c", 1, "concurrent connections")
	duration := flag.Duration("d", 5*time.Second, "how long to send")
	maxRequests := flag.Int64("max-requests", 100000, "request budget over all connections")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	var hs headers
	flag.Var(&hs, "H", `header "Name: value" (repeatable)`)
	flag.Parse()
	if *target == "" || *conns < 1 {
		log.Fatal("need -url and -c >= 1")
	}
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, DisableCompression: true}}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(*maxRequests)
	results := make([]result, *conns)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = work(ctx, client, *target, hs, &budget)
		}()
	}
	wg.Wait()
	report(results, time.Since(start))
}

func work(ctx context.Context, client *http.Client, target string, hs headers, budget *atomic.Int64) result {
	var r result
	for ctx.Err() == nil && budget.Add(-1) >= 0 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			r.errors++
			return r
		}
		for _, h := range hs {
			if k, v, ok := strings.Cut(h, ":"); ok {
				req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				r.errors++
			}
			continue
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			if ctx.Err() == nil {
				r.errors++
			}
			continue
		}
		r.latencies = append(r.latencies, time.Since(t0))
		r.bytes += n
		if resp.StatusCode/100 != 2 {
			r.non2xx++
		}
	}
	return r
}

func report(results []result, elapsed time.Duration) {
	var all []time.Duration
	var total result
	for _, r := range results {
		all = append(all, r.latencies...)
		total.non2xx += r.non2xx
		total.errors += r.errors
		total.bytes += r.bytes
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p/100*float64(len(all))))].Microseconds()) / 1000
	}
	secs := elapsed.Seconds()
	fmt.Printf("RESULT requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d errors=%d bytes=%d\n",
		len(all), secs, float64(len(all))/secs, pct(50), pct(90), pct(99), pct(100), total.non2xx, total.errors, total.bytes)
}
