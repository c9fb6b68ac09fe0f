// Command report turns the rows test/load/run.sh collects (one per load
// run, tab-separated) into the markdown results table: for each upstream,
// request and concurrency, the throughput of direct, pass-through and ds4p,
// the ratios ds4p/direct and ds4p/pass-through, p50 and p99 latency, the
// mean wait of ds4p's requests for their ledger entries to be durable
// (reported apart, as the performance targets ask), the CPU the
// pass-through proxy and ds4p used per request, and ds4p's peak RSS.
// Rounds are combined by their median; the ratio's range over rounds shows
// how steady one run was. Rows written before the CPU column existed are
// read too (CPU then shows as –).
//
//	go run ./test/load/report -in rows.tsv -machine machine.md > latest.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
)

// row is one load run.
type row struct {
	round                       int
	upstream, kind, target      string
	conc                        int
	requests                    float64
	rps, p50, p90, p99, max     float64
	non2xx, errors, bytes, hwmK float64
	// ledgerN appends during the run, ledgerMS their mean wait for
	// durability (ds4p rows; from ds4p.ledger.append.duration)
	ledgerN, ledgerMS float64
	// cpuUS is the proxy's CPU per request in µs (0: not measured)
	cpuUS float64
}

// columns of the input, in order.
var columns = []string{"round", "upstream", "kind", "c", "target", "requests", "duration_s", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "non2xx", "errors", "bytes", "hwm_kb", "ledger_appends", "ledger_wait_ms", "cpu_us"}

// budget is the request budget of one run (0: none).
var budget float64

func main() {
	in := flag.String("in", "", "rows (TSV), required")
	machine := flag.String("machine", "", "markdown describing the machine and the run, put first")
	flag.Float64Var(&budget, "max-requests", 0, "the request budget of one run; runs that reach it are flagged")
	flag.Parse()
	rows, err := readRows(*in)
	if err != nil {
		log.Fatal(err)
	}
	if *machine != "" {
		b, err := os.ReadFile(*machine)
		if err != nil {
			log.Fatal(err)
		}
		os.Stdout.Write(b)
	}
	write(os.Stdout, rows)
}

func readRows(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if (len(fs) != len(columns) && len(fs) != len(columns)-1) || fs[0] == "round" {
			continue
		}
		num := func(i int) float64 {
			if i >= len(fs) {
				return 0
			}
			v, _ := strconv.ParseFloat(fs[i], 64)
			return v
		}
		out = append(out, row{
			round: int(num(0)), upstream: fs[1], kind: fs[2], conc: int(num(3)), target: fs[4],
			requests: num(5), rps: num(7), p50: num(8), p90: num(9), p99: num(10), max: num(11),
			non2xx: num(12), errors: num(13), bytes: num(14), hwmK: num(15),
			ledgerN: num(16), ledgerMS: num(17), cpuUS: num(18),
		})
	}
	return out, sc.Err()
}

// cell is every round of one upstream, request, concurrency and target.
type cell []row

func (c cell) median(f func(row) float64) float64 {
	if len(c) == 0 {
		return 0
	}
	vs := make([]float64, len(c))
	for i, r := range c {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func (c cell) sum(f func(row) float64) float64 {
	s := 0.0
	for _, r := range c {
		s += f(r)
	}
	return s
}

func (c cell) max(f func(row) float64) float64 {
	m := 0.0
	for _, r := range c {
		m = max(m, f(r))
	}
	return m
}

type key struct {
	upstream, kind string
	conc           int
}

func write(w io.Writer, rows []row) {
	cells := map[key]map[string]cell{}
	var keys []key
	for _, r := range rows {
		k := key{r.upstream, r.kind, r.conc}
		if cells[k] == nil {
			cells[k] = map[string]cell{}
			keys = append(keys, k)
		}
		cells[k][r.target] = append(cells[k][r.target], r)
	}
	var upstreams []string
	for _, k := range keys {
		if !slices.Contains(upstreams, k.upstream) {
			upstreams = append(upstreams, k.upstream)
		}
	}
	fmt.Fprint(w, "\n## Results\n\n")
	fmt.Fprintln(w, "Throughput in requests/s and latency in ms are medians over rounds; a ratio's range over the rounds follows it in brackets.")
	fmt.Fprintln(w, "Added p50 is ds4p's p50 minus direct's. Ledger wait is the mean time ds4p's appends waited for their entries to be durable (transaction and fsync, shared by a group commit; `ds4p.ledger.append.duration`), and the column after it is added p50 less that wait. CPU is what the pass-through proxy and ds4p used per request (user and system time from /proc over the run, divided by its requests): steadier than throughput on a shared machine. Peak RSS is ds4p's VmHWM, reset before each run.")
	for _, u := range upstreams {
		fmt.Fprintf(w, "\n### %s upstream\n\n", u)
		fmt.Fprintln(w, "| request | c | body KB | direct req/s | pass-through req/s | ds4p req/s | ds4p/direct | ds4p/pass-through | p50 ms direct / pass / ds4p | p99 ms direct / pass / ds4p | ds4p added p50 ms | ledger wait ms (mean) | added p50 less ledger wait ms | CPU µs/request pass / ds4p | ds4p peak RSS MB |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, k := range keys {
			if k.upstream == u {
				writeRow(w, k, cells[k])
			}
		}
	}
	writeProblems(w, rows)
}

func writeRow(w io.Writer, k key, cs map[string]cell) {
	rps := func(t string) float64 { return cs[t].median(func(r row) float64 { return r.rps }) }
	p := func(t string, f func(row) float64) string { return fmtMS(cs[t].median(f)) }
	p50 := func(r row) float64 { return r.p50 }
	p99 := func(r row) float64 { return r.p99 }
	d := cs["direct"]
	body := 0.0
	if n := d.sum(func(r row) float64 { return r.requests }); n > 0 {
		body = d.sum(func(r row) float64 { return r.bytes }) / n / 1024
	}
	added := cs["ds4p"].median(p50) - d.median(p50)
	wait, less := "–", "–"
	if cs["ds4p"].sum(func(r row) float64 { return r.ledgerN }) > 0 {
		mw := cs["ds4p"].median(func(r row) float64 { return r.ledgerMS })
		wait, less = fmtMS(mw), fmtMS(added-mw)
	}
	fmt.Fprintf(w, "| %s | %d | %.1f | %.0f | %.0f | %.0f | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s / %s | %.0f |\n",
		k.kind, k.conc, body, rps("direct"), rps("pass-through"), rps("ds4p"),
		ratio(cs["ds4p"], cs["direct"]), ratio(cs["ds4p"], cs["pass-through"]),
		p("direct", p50), p("pass-through", p50), p("ds4p", p50),
		p("direct", p99), p("pass-through", p99), p("ds4p", p99),
		fmtMS(added), wait, less, cpu(cs["pass-through"]), cpu(cs["ds4p"]),
		cs["ds4p"].max(func(r row) float64 { return r.hwmK })/1024)
}

// cpu is the cell's median CPU per request, or – when not measured.
func cpu(c cell) string {
	v := c.median(func(r row) float64 { return r.cpuUS })
	if v <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", v)
}

// ratio is num/den of the median throughputs, with the range of the
// per-round ratios.
func ratio(num, den cell) string {
	md := den.median(func(r row) float64 { return r.rps })
	if md == 0 {
		return "–"
	}
	out := fmt.Sprintf("%.2f", num.median(func(r row) float64 { return r.rps })/md)
	lo, hi := 0.0, 0.0
	n := 0
	for _, a := range num {
		for _, b := range den {
			if a.round == b.round && b.rps > 0 {
				v := a.rps / b.rps
				if n == 0 || v < lo {
					lo = v
				}
				if n == 0 || v > hi {
					hi = v
				}
				n++
			}
		}
	}
	if n > 1 {
		out += fmt.Sprintf(" (%.2f–%.2f)", lo, hi)
	}
	return out
}

func fmtMS(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10 || v <= -10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// writeProblems lists runs with errors, non-2xx answers, or that hit the
// request budget.
func writeProblems(w io.Writer, rows []row) {
	var lines []string
	for _, r := range rows {
		if r.errors > 0 || r.non2xx > 0 {
			lines = append(lines, fmt.Sprintf("- round %d, %s %s c=%d %s: %.0f errors, %.0f non-2xx of %.0f requests", r.round, r.upstream, r.kind, r.conc, r.target, r.errors, r.non2xx, r.requests))
		}
		if budget > 0 && r.requests >= 0.99*budget {
			lines = append(lines, fmt.Sprintf("- round %d, %s %s c=%d %s: reached the request budget (%.0f): its req/s is understated", r.round, r.upstream, r.kind, r.conc, r.target, budget))
		}
	}
	if len(lines) == 0 {
		fmt.Fprintln(w, "\nEvery request of every run answered 2xx.")
		return
	}
	fmt.Fprintln(w, "\nRuns with failures (their numbers are not comparable):")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}
