package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/heapfloor"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"go.etcd.io/bbolt"
)

// BenchmarkPipeline sends reads and 1-, 100- and 1,000-entry searchsets
// through the proxy's handler in process (no client-side HTTP hop; the
// upstream is a static server on loopback), once per variant of the stages
// behind it, for a permissive caller (TREAT, named by pat-0's Part 2
// consent: nothing withheld) and a restrictive one (no purpose of use: every
// restricted entry withheld):
//
//   - full: real policy engine, ledger fsynced (what `ds4p serve` runs);
//   - ledger-nosync: the same without fsync, the ledger's CPU cost only;
//   - no-ledger: appends discarded;
//   - cold-decisions: the same with the engine's decision cache off, so
//     that every decision class of every response is evaluated (a caller
//     meeting patients' consent versions for the first time);
//   - cached-decisions: decisions remembered across requests (keyed by the
//     input without its time) and appends discarded: what is left is edge,
//     upstream fetch, validate, collect, label, enforce and serialize.
//
// direct fetches the same bytes from the upstream with an HTTP client.
// Metrics: MB/s of the upstream body; cpu-MB/s, the same bytes over the
// process's CPU time (user+sys, upstream included); allocs/entry;
// alloc-B/body-B, bytes allocated per byte of body; decisions/response, the
// proxy's Decide calls, one per decision class: the policy evaluations of a
// response, unless the engine answers some from its own cache (then see
// package stages for the cost of an evaluation); with cached-decisions,
// engine-calls/response counts the calls that reached the engine.
func BenchmarkPipeline(b *testing.B) {
	up := newPipeUpstream(b)
	b.Run("direct", func(b *testing.B) {
		for _, s := range up.shapes {
			b.Run(s.name, func(b *testing.B) { benchDirect(b, up, s) })
		}
	})
	for _, v := range pipeVariants {
		px := newPipeProxy(b, up, v)
		for _, cl := range pipeCallers {
			for _, s := range up.shapes {
				b.Run(v.name+"/"+cl.name+"/"+s.name, func(b *testing.B) {
					benchProxied(b, px, px.tokens[cl.name], s)
				})
			}
		}
	}
}

// BenchmarkPipelineParallel is the full pipeline under 8 concurrent
// requests: ledger appends share fsyncs, and 2 cores share the work.
func BenchmarkPipelineParallel(b *testing.B) {
	up := newPipeUpstream(b)
	px := newPipeProxy(b, up, pipeVariants[0])
	for _, s := range up.shapes {
		if s.entries != 0 && s.entries != 1000 {
			continue
		}
		b.Run("full/permissive/"+s.name+"/parallel=8", func(b *testing.B) {
			benchProxiedParallel(b, px, px.tokens["permissive"], s, 8)
		})
	}
}

// BenchmarkHeapFloor is BenchmarkPipelineParallel's reads without and
// with the heap floor `ds4p serve` sets by default (heap_floor_bytes,
// internal/heapfloor): how often the collector runs (gc/1000ops) and what
// a read costs in CPU (cpu-µs/op, the in-process upstream and client
// included). The process's own live heap is larger than a server's (the
// benchmark's fixtures), so the floor saves less here than in `ds4p serve`.
func BenchmarkHeapFloor(b *testing.B) {
	up := newPipeUpstream(b)
	px := newPipeProxy(b, up, pipeVariants[0])
	read := up.shapes[0]
	for _, floor := range []int64{0, 32 << 20} {
		b.Run(fmt.Sprintf("full/permissive/read/parallel=8/floor=%dMiB", floor>>20), func(b *testing.B) {
			if got := heapfloor.Set(floor); got != floor {
				b.Fatalf("heap floor %d, asked %d", got, floor)
			}
			defer heapfloor.Set(0)
			runtime.GC()
			benchProxiedParallel(b, px, px.tokens["permissive"], read, 8)
		})
	}
}

// pipeShape is one upstream answer: a read (entries 0) or a searchset.
type pipeShape struct {
	name    string
	path    string // below the FHIR base, with query
	entries int
	body    []byte
}

func (s pipeShape) perEntry() int { return max(s.entries, 1) }

type pipeUpstream struct {
	base   string // FHIR base URL
	shapes []pipeShape
}

// newPipeUpstream serves an ordinary Observation for any read and searchsets
// of 1, 100 and 1,000 entries (synth.BenchResources, fullUrls under its own
// base so the proxy rewrites them) for Observation?_count=N.
func newPipeUpstream(tb testing.TB) *pipeUpstream {
	tb.Helper()
	up := &pipeUpstream{}
	bodies := map[string][]byte{}
	var ready sync.WaitGroup
	ready.Add(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		body, ok := bodies[r.URL.Query().Get("_count")]
		if r.URL.Path != "/fhir/Observation" || !ok {
			body, ok = bodies[r.URL.Path] // the read
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		if !ok {
			// A reference's target the proxy reads to label a response
			// (labels.Batch.Resolve): this upstream has nothing else.
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	up.base = srv.URL + "/fhir"
	read := firstOrdinaryObservation(tb)
	bodies["/fhir/Observation/"+read.ID] = read.JSON
	up.shapes = append(up.shapes, pipeShape{name: "read", path: "/Observation/" + read.ID, body: read.JSON})
	for _, n := range []int{1, 100, 1000} {
		body := synth.SearchsetBundle(synth.BenchResources(n, 1), up.base)
		bodies[strconv.Itoa(n)] = body
		up.shapes = append(up.shapes, pipeShape{name: "entries=" + strconv.Itoa(n), path: "/Observation?_count=" + strconv.Itoa(n), entries: n, body: body})
	}
	if s, ok := benchBodyFromFile(tb); ok {
		bodies["file"] = s.body
		up.shapes = append(up.shapes, s)
	}
	ready.Done()
	return up
}

// benchBodyFromFile adds the searchset Bundle in the file DS4P_BENCH_BODY
// (a response saved from your own FHIR server) as the shape "file", so the
// pipeline can be measured on real data:
//
//	DS4P_BENCH_BODY=/tmp/search.json go test -run '^$' -bench 'Pipeline$/.*/file' ./test/bench/
func benchBodyFromFile(tb testing.TB) (pipeShape, bool) {
	path := os.Getenv("DS4P_BENCH_BODY")
	if path == "" {
		return pipeShape{}, false
	}
	body, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("DS4P_BENCH_BODY: %v", err)
	}
	var bundle struct {
		ResourceType string            `json:"resourceType"`
		Entry        []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &bundle); err != nil || bundle.ResourceType != "Bundle" {
		tb.Fatalf("DS4P_BENCH_BODY: %s is not a FHIR Bundle (%v)", path, err)
	}
	return pipeShape{name: "file", path: "/Observation?_count=file", entries: len(bundle.Entry), body: body}, true
}

func firstOrdinaryObservation(tb testing.TB) synth.Resource {
	for _, r := range synth.BenchResources(100, 1) {
		if r.Type == "Observation" && !r.Sensitive() {
			return r
		}
	}
	tb.Fatal("no ordinary Observation in the generated data")
	return synth.Resource{}
}

// pipeVariant selects the decider and ledger behind the proxy.
type pipeVariant struct {
	name   string
	cached bool
	cold   bool   // the engine's decision cache off
	ledger string // "fsync", "nosync" or "discard"
}

var pipeVariants = []pipeVariant{
	{name: "full", ledger: "fsync"},
	{name: "ledger-nosync", ledger: "nosync"},
	{name: "no-ledger", ledger: "discard"},
	{name: "cold-decisions", cold: true, ledger: "discard"},
	{name: "cached-decisions", cached: true, ledger: "discard"},
}

var pipeCallers = []struct {
	name   string
	claims authn.DevClaims
}{
	{"permissive", authn.DevClaims{Subject: "bench", Org: pipeOrg, Client: "bench", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}}},
	{"restrictive", authn.DevClaims{Subject: "bench", Org: "Organization/other", Client: "bench", Scopes: []string{"user/*.read"}}},
}

const pipeOrg = "Organization/bench"

type pipeProxy struct {
	handler http.Handler
	tokens  map[string]string
	// calls counts the proxy's Decide calls, evals those that reached the
	// engine (fewer only with cached-decisions).
	evals, calls *countingDecider
}

func newPipeProxy(tb testing.TB, up *pipeUpstream, v pipeVariant) *pipeProxy {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	db.MaxBatchDelay = time.Millisecond // as cmd/ds4p wires it
	tb.Cleanup(func() { _ = db.Close() })
	cs, err := consent.Open(db)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cs.Put(ctx, part2Consent(synth.PatientRef(0), pipeOrg)); err != nil {
		tb.Fatal(err)
	}
	led, err := pipeLedger(db, v.ledger)
	if err != nil {
		tb.Fatal(err)
	}
	var opts []policy.Option
	if v.cold {
		opts = append(opts, policy.WithDecisionCache(0))
	}
	eng, err := policy.New(ctx, rego.FS(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	evals := &countingDecider{Decider: eng}
	calls := evals
	if v.cached {
		calls = &countingDecider{Decider: &memoDecider{Decider: evals}}
	}
	px := &pipeProxy{tokens: map[string]string{}, evals: evals, calls: calls}
	for _, cl := range pipeCallers {
		if px.tokens[cl.name], err = authn.MintDev(dir, cl.claims); err != nil {
			tb.Fatal(err)
		}
	}
	keys, err := authn.DevPublicKeys(dir)
	if err != nil {
		tb.Fatal(err)
	}
	ver, err := authn.NewVerifier(ctx, authn.Config{DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience})
	if err != nil {
		tb.Fatal(err)
	}
	u, _ := url.Parse(up.base)
	srv, err := proxy.New(proxy.Options{Upstream: u}, proxy.Deps{
		Labeller: servedLabeller(), Decider: calls, Consents: cs, Ledger: led, Auth: ver,
	})
	if err != nil {
		tb.Fatal(err)
	}
	px.handler = srv.Handler()
	return px
}

func pipeLedger(db *bbolt.DB, kind string) (proxy.Ledger, error) {
	if kind == "discard" {
		return discardLedger{}, nil
	}
	if kind == "nosync" {
		// Refuses NoSync: switch after opening. Without the journal, whose
		// fdatasync NoSync would not skip: bbolt's work without the disk.
		led, err := audit.Open(db, audit.WithJournalSize(0))
		db.NoSync = true
		return led, err
	}
	return audit.Open(db)
}

// discardLedger accepts every append and keeps nothing.
type discardLedger struct{}

func (discardLedger) Append(context.Context, ...audit.Entry) error { return nil }
func (discardLedger) Find(context.Context, audit.Query) ([]audit.Entry, error) {
	return nil, nil
}

// countingDecider counts Decide calls.
type countingDecider struct {
	proxy.Decider
	n atomic.Int64
}

func (d *countingDecider) Decide(ctx context.Context, in policy.Input) (policy.Decision, error) {
	d.n.Add(1)
	return d.Decider.Decide(ctx, in)
}

// memoDecider remembers decisions across requests, keyed by the input
// without its time: a stand-in for a decision cache keyed by policy
// revision, consent versions and caller attributes.
type memoDecider struct {
	proxy.Decider
	m sync.Map
}

func (d *memoDecider) Decide(ctx context.Context, in policy.Input) (policy.Decision, error) {
	in.Request.TimeNS = 0
	key, err := json.Marshal(in)
	if err != nil {
		return policy.Decision{}, err
	}
	if v, ok := d.m.Load(string(key)); ok {
		return v.(policy.Decision), nil
	}
	dec, err := d.Decider.Decide(ctx, in)
	if err == nil {
		d.m.Store(string(key), dec)
	}
	return dec, err
}

// discardWriter is a ResponseWriter that counts the body and keeps nothing.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}
func (w *discardWriter) Flush() {}

// serve sends one GET through the handler and returns the bytes written.
func (px *pipeProxy) serve(w *discardWriter, path, token string) (int, error) {
	clear(w.h)
	w.status, w.n = 0, 0
	req := httptest.NewRequest(http.MethodGet, "http://ds4p.bench/fhir"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/fhir+json")
	px.handler.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d", path, w.status)
	}
	return w.n, nil
}

func benchProxied(b *testing.B, px *pipeProxy, token string, s pipeShape) {
	w := &discardWriter{h: http.Header{}}
	if _, err := px.serve(w, s.path, token); err != nil { // warm connections and caches
		b.Fatal(err)
	}
	evals0, calls0 := px.evals.n.Load(), px.calls.n.Load()
	out := 0
	m := startMeter(b, s)
	for b.Loop() {
		n, err := px.serve(w, s.path, token)
		if err != nil {
			b.Fatal(err)
		}
		out = n
	}
	m.stop(b)
	b.ReportMetric(float64(px.calls.n.Load()-calls0)/float64(b.N), "decisions/response")
	if px.calls != px.evals {
		b.ReportMetric(float64(px.evals.n.Load()-evals0)/float64(b.N), "engine-calls/response")
	}
	b.ReportMetric(float64(out), "out-B/response")
}

func benchProxiedParallel(b *testing.B, px *pipeProxy, token string, s pipeShape, goroutines int) {
	b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
	var failed atomic.Bool
	m := startMeter(b, s)
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			if _, err := px.serve(w, s.path, token); err != nil && failed.CompareAndSwap(false, true) {
				b.Error(err)
			}
		}
	})
	m.stop(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
}

func benchDirect(b *testing.B, up *pipeUpstream, s pipeShape) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	get(b, client, up.base+s.path, "")
	m := startMeter(b, s)
	for b.Loop() {
		get(b, client, up.base+s.path, "")
	}
	m.stop(b)
}

// meter reports per-response throughput, CPU and allocation metrics.
type meter struct {
	s     pipeShape
	mem   runtime.MemStats
	cpu   time.Duration
	start time.Time
}

func startMeter(b *testing.B, s pipeShape) *meter {
	b.SetBytes(int64(len(s.body)))
	b.ReportAllocs()
	m := &meter{s: s}
	runtime.ReadMemStats(&m.mem)
	m.cpu = processCPU()
	b.ResetTimer()
	return m
}

func (m *meter) stop(b *testing.B) {
	b.StopTimer()
	cpu := processCPU() - m.cpu
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if b.N == 0 {
		return
	}
	n := float64(b.N)
	b.ReportMetric((float64(after.Mallocs-m.mem.Mallocs)/n)/float64(m.s.perEntry()), "allocs/entry")
	b.ReportMetric(float64(after.TotalAlloc-m.mem.TotalAlloc)/n/float64(len(m.s.body)), "alloc-B/body-B")
	if cpu > 0 {
		b.ReportMetric(n*float64(len(m.s.body))/1e6/cpu.Seconds(), "cpu-MB/s")
		b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/op")
	}
	b.ReportMetric(float64(after.NumGC-m.mem.NumGC)*1000/n, "gc/1000ops")
}

// part2Consent is the demo's Part 2 consent: deny, except to org for
// treatment.
func part2Consent(patient, org string) []byte {
	return []byte(`{"resourceType":"Consent","status":"active",
"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
"patient":{"reference":"` + patient + `"},"dateTime":"2026-01-05",
"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
"provision":{"type":"deny","provision":[{"type":"permit",
"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"` + org + `"}}],
"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}}`)
}

// TestPipelineCallers checks the benchmark fixture once, fast: both callers
// get the 100-entry searchset through the full pipeline with one decision
// per class, and the restrictive caller sees less.
func TestPipelineCallers(t *testing.T) {
	up := newPipeUpstream(t)
	px := newPipeProxy(t, up, pipeVariants[0])
	s := up.shapes[2]
	w := &discardWriter{h: http.Header{}}
	out := map[string]int{}
	for _, cl := range pipeCallers {
		before := px.calls.n.Load()
		n, err := px.serve(w, s.path, px.tokens[cl.name])
		if err != nil {
			t.Fatal(err)
		}
		if calls := px.calls.n.Load() - before; calls == 0 || calls >= int64(s.entries) {
			t.Errorf("%s: %d policy decisions for %d entries", cl.name, calls, s.entries)
		}
		out[cl.name] = n
	}
	if out["restrictive"] >= out["permissive"] {
		t.Errorf("restrictive caller got %d bytes, permissive %d: nothing was withheld", out["restrictive"], out["permissive"])
	}
}

// servedLabeller is the labeller serve runs with: the default rules and a
// label cache of the default size. Without the cache every response would
// read the targets of its references from the upstream again
// (labels.Batch.Resolve), which serve does once per target and known-TTL.
func servedLabeller() *labels.Labeller {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100_000})
	if err != nil {
		panic(err)
	}
	return l
}
