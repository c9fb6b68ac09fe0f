// Command soak is the bounded soak test of ds4p: a fixed rate of mixed
// requests over loopback, for a fixed time, through `ds4p serve` in front of
// the load test's static upstream (test/load/upstream), with the real
// policy, a stored Part 2 consent, the fsynced ledger and dev tokens.
//
//	go run ./test/soak -duration 10m -rate 200      # make soak
//	go run ./test/soak -duration 30s -sample 5s     # a smoke run
//
// Every -sample it prints one row: requests, errors, p50/p99 of that window
// and the ds4p process's memory from /proc/PID/status (VmRSS, RssAnon,
// RssFile). At the end it prints the whole run's figures and fails (exit 1)
// when
//   - the error rate exceeds -max-error-rate (an error is a transport
//     error, a timeout, a 5xx, or a status the request does not expect), or
//   - memory grew: the median RssAnon of the last third of the samples
//     exceeds the median of the first third by more than
//     -max-growth-mib + -max-growth-pct % of the first third's median.
//
// RssAnon (the heap and stacks) is the gated figure: RssFile counts the
// pages of the bbolt file the ledger maps, which grow with the ledger by
// design; both are printed. Requests the generator cannot start because
// -max-inflight are already waiting are counted as "late" (the machine
// could not keep the rate) and reported, not failed.
//
// Everything started here is stopped by its PID when the run ends; the
// upstream also exits by itself after -duration + 5 min.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
)

type config struct {
	duration, sample, timeout time.Duration
	rate, maxInflight         int
	maxGrowthMiB, maxGrowthPc float64
	maxErrorRate              float64
	seed                      uint64
	keep                      bool
	heapFloor                 int64
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "how long to send requests")
	flag.IntVar(&c.rate, "rate", 200, "requests per second (fixed, open loop)")
	flag.DurationVar(&c.sample, "sample", 30*time.Second, "sampling interval")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "client timeout of one request")
	flag.IntVar(&c.maxInflight, "max-inflight", 64, "requests in flight at most; a tick beyond it is counted late")
	flag.Float64Var(&c.maxGrowthMiB, "max-growth-mib", 32, "memory bound: allowed RssAnon growth, MiB, first to last third")
	flag.Float64Var(&c.maxGrowthPc, "max-growth-pct", 20, "memory bound: plus this percentage of the first third's RssAnon")
	flag.Float64Var(&c.maxErrorRate, "max-error-rate", 0.001, "fail above this fraction of errors")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the request mix")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory (logs, data)")
	// With serve's default heap floor the garbage between collections (up to
	// about twice the floor) moves RssAnon by tens of MiB and would hide or
	// fake growth in a short run; a leak shows the same without it.
	flag.Int64Var(&c.heapFloor, "heap-floor", 0, "ds4p's heap_floor_bytes during the soak (0: off, for a steadier memory gate; serve's default is 33554432)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if c.rate <= 0 || c.duration <= 0 || c.sample <= 0 {
		return errors.New("-rate, -duration and -sample must be positive")
	}
	st, err := startStack(c)
	if err != nil {
		if st != nil {
			st.stop()
		}
		return err
	}
	defer st.stop()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	res := drive(ctx, c, st, newMix(c.seed, st))
	return res.verdict(c)
}

// ---- the stack

// stack is the upstream and ds4p, running.
type stack struct {
	work      string
	keep      bool
	heapFloor int64 // ds4p's heap_floor_bytes
	procs     []*exec.Cmd
	base      string // ds4p FHIR base
	ds4pPID   int
	tokens    map[string]string
	readable  []string // paths below the base
	plain     []bool   // readable[i] has no sensitive data: always 200
	withheld  []string // pat-0's sensitive resources: 404 for the restrictive caller
}

func startStack(c config) (*stack, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "ds4p-soak-")
	if err != nil {
		return nil, err
	}
	st := &stack{work: work, keep: c.keep, tokens: map[string]string{}, heapFloor: c.heapFloor}
	for _, b := range [][2]string{{"ds4p", "./cmd/ds4p"}, {"upstream", "./test/load/upstream"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(work, b[0]), b[1])
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return st, fmt.Errorf("building %s: %v\n%s", b[1], err, out)
		}
	}
	upBase, _, err := st.start("upstream", "LISTENING ", filepath.Join(work, "upstream"), "--listen", "127.0.0.1:0",
		"--lifetime", (c.duration + 5*time.Minute).String())
	if err != nil {
		return st, err
	}
	data := filepath.Join(work, "data")
	base, pid, err := st.start("ds4p", "ds4p listening on ", filepath.Join(work, "ds4p"), "serve", "--upstream", upBase,
		"--listen", "127.0.0.1:0", "--data", data, "--dev-auth", "--log-level", "warn")
	if err != nil {
		return st, err
	}
	st.base, st.ds4pPID = base, pid
	if err := st.mintTokens(data); err != nil {
		return st, err
	}
	if err := st.storeConsent(root); err != nil {
		return st, err
	}
	st.population()
	return st, nil
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the ds4p module")
		}
		dir = parent
	}
}

// start runs a program, stderr to a log file, and waits for the line of its
// stdout that starts with prefix; it returns the word after it and the PID.
func (st *stack) start(name, prefix, bin string, args ...string) (string, int, error) {
	cmd := exec.Command(bin, args...)
	// One token at a fixed rate above the per-caller default limits: the
	// soak measures the proxy, not its rate limiter (README).
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "DS4P_RATE_LIMITS_ENABLED=false",
		"DS4P_HEAP_FLOOR_BYTES="+strconv.FormatInt(st.heapFloor, 10))
	logf, err := os.Create(filepath.Join(st.work, name+".log"))
	if err != nil {
		return "", 0, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, err
	}
	st.procs = append(st.procs, cmd)
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if rest, ok := strings.CutPrefix(s.Text(), prefix); ok {
				found <- strings.Fields(rest)[0]
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u, cmd.Process.Pid, nil
	case <-time.After(60 * time.Second):
		return "", 0, fmt.Errorf("%s did not start; see %s", name, logf.Name())
	}
}

func (st *stack) stop() {
	for _, p := range st.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range st.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	if st.keep {
		fmt.Fprintln(os.Stderr, "soak: work directory kept:", st.work)
		return
	}
	_ = os.RemoveAll(st.work)
}

func (st *stack) mintTokens(data string) error {
	specs := map[string][]string{
		// permissive: the consent permits Organization/bench for TREAT.
		"permissive": {"--sub", "soak", "--org", "Organization/bench", "--client", "soak", "--purpose", "TREAT", "--scope", "user/*.read"},
		// restrictive: no purpose of use, so nothing restricted is disclosed.
		"restrictive": {"--sub", "soak-np", "--org", "Organization/other", "--client", "soak", "--scope", "user/*.read"},
		"admin":       {"--sub", "soak-admin", "--org", "Organization/ops", "--scope", "ds4p/consent-manager"},
	}
	for name, args := range specs {
		args = append([]string{"token", "--data", data, "--ttl", "24h"}, args...)
		out, err := exec.Command(filepath.Join(st.work, "ds4p"), args...).Output()
		if err != nil {
			return fmt.Errorf("ds4p token %s: %w", name, err)
		}
		st.tokens[name] = strings.TrimSpace(string(out))
	}
	return nil
}

// storeConsent stores the load test's Part 2 consent of pat-0.
func (st *stack) storeConsent(root string) error {
	body, err := os.ReadFile(filepath.Join(root, "test/load/consent.json"))
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(st.base, "/fhir")+"/admin/Consent", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+st.tokens["admin"])
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("storing the consent: %d %s", resp.StatusCode, b)
	}
	return nil
}

// population lists the reads of the static upstream's population (the load
// test's: synth seed 1, 40 patients).
func (st *stack) population() {
	d := synth.Generate(synth.Options{Seed: 1, Patients: 40})
	for _, r := range d.Resources {
		st.readable = append(st.readable, r.Ref())
		st.plain = append(st.plain, !r.Sensitive() && !r.Part2)
		if r.Patient == "Patient/pat-0" && r.Sensitive() {
			st.withheld = append(st.withheld, r.Ref())
		}
	}
}

// ---- the request mix

// request is one request of the mix and the statuses it may answer.
type request struct {
	kind, path, token string
	ok                []int
}

type mix struct {
	mu  sync.Mutex
	rnd *rand.Rand
	st  *stack
}

func newMix(seed uint64, st *stack) *mix {
	return &mix{rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)), st: st}
}

// next draws a request: 70% reads of any resource by the permissive caller
// (a sensitive one answers 404 unless its patient, pat-0, consented),
// 10% reads by the restrictive caller (pat-0's sensitive ones answer 404),
// 8% reads of missing resources, 10% $everything of pat-0 (either caller),
// 1% the 1,000-entry search, 1% a refused search (_getpages).
func (m *mix) next() request {
	m.mu.Lock()
	n, i, j := m.rnd.IntN(100), m.rnd.IntN(len(m.st.readable)), m.rnd.IntN(len(m.st.withheld)+1)
	m.mu.Unlock()
	p, r := m.st.tokens["permissive"], m.st.tokens["restrictive"]
	switch {
	case n < 70 && m.st.plain[i]:
		// 404 too: the labeller may find a resource sensitive that the
		// generator's ground truth does not (e.g. an ED encounter).
		return request{"read", m.st.readable[i], p, []int{200, 404}}
	case n < 70: // sensitive: withheld (404) unless its patient consented
		return request{"read-sensitive", m.st.readable[i], p, []int{200, 404}}
	case n < 80:
		path := m.st.readable[i]
		if j < len(m.st.withheld) {
			path = m.st.withheld[j]
		}
		return request{"read-restricted", path, r, []int{200, 404}}
	case n < 88:
		return request{"read-missing", "Observation/missing-" + strconv.Itoa(i), p, []int{404}}
	case n < 93:
		return request{"everything", "Patient/pat-0/$everything", p, []int{200}}
	case n < 98:
		return request{"everything-restricted", "Patient/pat-0/$everything", r, []int{200}}
	case n < 99:
		return request{"search-1000", "Observation?_count=1000", p, []int{200}}
	default:
		return request{"refused", "Observation?_getpages=x", p, []int{400}}
	}
}

// ---- driving and sampling

// window is what one sampling interval saw.
type window struct {
	at                     time.Duration
	requests, errors, late int
	p50, p99               time.Duration
	rss, rssAnon, rssFile  int64 // KiB
	errKinds               map[string]int
	latencies              []time.Duration
}

type results struct {
	examples       []string // the first failed requests, for a look
	windows        []window
	requests, errs int
	late           int
	all            []time.Duration
	errKinds       map[string]int
}

func drive(ctx context.Context, c config, st *stack, m *mix) *results {
	client := &http.Client{Timeout: c.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: c.maxInflight, MaxConnsPerHost: c.maxInflight}}
	var mu sync.Mutex
	cur := window{errKinds: map[string]int{}}
	var inflight atomic.Int64
	var wg sync.WaitGroup
	res := &results{errKinds: map[string]int{}}
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(c.rate))
	defer tick.Stop()
	sample := time.NewTicker(c.sample)
	defer sample.Stop()
	end := time.After(c.duration)
	fmt.Printf("soak: %d req/s for %s through %s (ds4p pid %d), sample every %s\n", c.rate, c.duration, st.base, st.ds4pPID, c.sample)
	fmt.Printf("%8s %8s %6s %6s %9s %9s %9s %10s %10s\n", "t", "requests", "errors", "late", "p50 ms", "p99 ms", "RSS MiB", "anon MiB", "file MiB")
	record := func(rq request, kind string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		cur.requests++
		cur.latencies = append(cur.latencies, d)
		if kind != "" {
			cur.errors++
			cur.errKinds[rq.kind+" "+kind]++
			if len(res.examples) < 5 {
				res.examples = append(res.examples, rq.kind+" "+rq.path+": "+kind)
			}
		}
	}
	flush := func() {
		mu.Lock()
		w := cur
		cur = window{errKinds: map[string]int{}}
		mu.Unlock()
		w.at = time.Since(start).Round(time.Second)
		w.p50, w.p99 = percentile(w.latencies, 50), percentile(w.latencies, 99)
		w.rss, w.rssAnon, w.rssFile = memory(st.ds4pPID)
		fmt.Printf("%8s %8d %6d %6d %9.2f %9.2f %9.1f %10.1f %10.1f\n", w.at, w.requests, w.errors, w.late,
			ms(w.p50), ms(w.p99), mib(w.rss), mib(w.rssAnon), mib(w.rssFile))
		res.windows = append(res.windows, w)
		res.requests += w.requests
		res.errs += w.errors
		res.late += w.late
		res.all = append(res.all, w.latencies...)
		for k, v := range w.errKinds {
			res.errKinds[k] += v
		}
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-sample.C:
			flush()
		case <-tick.C:
			if inflight.Load() >= int64(c.maxInflight) {
				mu.Lock()
				cur.late++
				mu.Unlock()
				continue
			}
			rq := m.next()
			inflight.Add(1)
			wg.Go(func() {
				defer inflight.Add(-1)
				t0 := time.Now()
				kind := send(ctx, client, st.base, rq)
				record(rq, kind, time.Since(t0))
			})
		}
	}
	wg.Wait()
	flush()
	return res
}

// send does one request; it returns "" when it answered as expected, else
// what went wrong.
func send(ctx context.Context, client *http.Client, base string, rq request) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+rq.path, nil)
	if err != nil {
		return "bad request"
	}
	req.Header.Set("Authorization", "Bearer "+rq.token)
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ""
		}
		return "transport error"
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "body cut short"
	}
	if !slices.Contains(rq.ok, resp.StatusCode) {
		return "status " + strconv.Itoa(resp.StatusCode)
	}
	return ""
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

// memory reads VmRSS, RssAnon and RssFile (KiB) of a process.
func memory(pid int) (rss, anon, file int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "RssAnon:":
			anon = v
		case "RssFile:":
			file = v
		}
	}
	return rss, anon, file
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(kib int64) float64      { return float64(kib) / 1024 }

// verdict prints the run's figures and fails on errors or memory growth.
func (r *results) verdict(c config) error {
	var ws []window
	for _, w := range r.windows {
		if w.rssAnon > 0 {
			ws = append(ws, w)
		}
	}
	fmt.Printf("\ntotal: %d requests, %d errors (%.3f%%), %d late; p50 %.2f ms, p99 %.2f ms\n",
		r.requests, r.errs, 100*float64(r.errs)/float64(max(r.requests, 1)), r.late, ms(percentile(r.all, 50)), ms(percentile(r.all, 99)))
	for k, v := range r.errKinds {
		fmt.Printf("  errors %-40s %d\n", k, v)
	}
	for _, e := range r.examples {
		fmt.Println("  e.g.", e)
	}
	var problems []string
	if r.requests == 0 {
		problems = append(problems, "no request was sent")
	}
	if rate := float64(r.errs) / float64(max(r.requests, 1)); rate > c.maxErrorRate {
		problems = append(problems, fmt.Sprintf("error rate %.4f exceeds %.4f", rate, c.maxErrorRate))
	}
	if len(ws) < 3 {
		problems = append(problems, "fewer than 3 memory samples: run longer or sample more often")
	} else {
		third := len(ws) / 3
		first, last := medianAnon(ws[:third]), medianAnon(ws[len(ws)-third:])
		bound := c.maxGrowthMiB*1024 + c.maxGrowthPc/100*float64(first)
		fmt.Printf("memory (RssAnon, median): first third %.1f MiB, last third %.1f MiB, growth %.1f MiB, bound %.1f MiB\n",
			mib(first), mib(last), mib(last-first), bound/1024)
		if float64(last-first) > bound {
			problems = append(problems, fmt.Sprintf("memory grew %.1f MiB, over the bound of %.1f MiB", mib(last-first), bound/1024))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("soak: PASS")
	return nil
}

func medianAnon(ws []window) int64 {
	v := make([]int64, len(ws))
	for i, w := range ws {
		v[i] = w.rssAnon
	}
	slices.Sort(v)
	return v[len(v)/2]
}
