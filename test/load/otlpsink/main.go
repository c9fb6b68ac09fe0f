// Command otlpsink is the load test's OTLP/HTTP metrics receiver: ds4p
// exports its metrics to it, and the load script asks it, between runs, for
// the running totals of ds4p.ledger.append.duration (how long appends
// waited for their ledger entries to be durable), so that the report shows
// the wait for ledger durability apart from the rest of ds4p's latency.
//
// POST /v1/metrics takes an ExportMetricsServiceRequest (protobuf, gzip or
// not). GET /ledger?service=NAME answers "COUNT SUM_SECONDS" of the latest
// cumulative histogram that service (resource service.name) exported, or
// "0 0" before its first export. It prints LISTENING <url> and exits by
// itself after --lifetime. Loopback only.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"
)

const metricName = "ds4p.ledger.append.duration"

type totals struct{ count, sum float64 }

type sink struct {
	mu     sync.Mutex
	latest map[string]totals // by service.name
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	lifetime := flag.Duration("lifetime", 45*time.Minute, "exit after this long")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	s := &sink{latest: map[string]totals{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", s.export)
	mux.HandleFunc("GET /ledger", s.ledger)
	fmt.Println("LISTENING http://" + ln.Addr().String())
	time.AfterFunc(*lifetime, func() { os.Exit(0) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func (s *sink) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, 16<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req colmetrics.ExportMetricsServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, rm := range req.GetResourceMetrics() {
		service := ""
		for _, kv := range rm.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != metricName {
					continue
				}
				s.record(service, m.GetHistogram())
			}
		}
	}
	out, _ := proto.Marshal(&colmetrics.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// record keeps the totals of a cumulative histogram over all its points
// (outcomes).
func (s *sink) record(service string, h *metricspb.Histogram) {
	if h == nil || h.GetAggregationTemporality() != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
		return
	}
	var t totals
	for _, p := range h.GetDataPoints() {
		t.count += float64(p.GetCount())
		t.sum += p.GetSum()
	}
	s.mu.Lock()
	s.latest[service] = t
	s.mu.Unlock()
}

func (s *sink) ledger(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.latest[r.URL.Query().Get("service")]
	s.mu.Unlock()
	fmt.Fprintf(w, "%.0f %.9f\n", t.count, t.sum)
}
