package console

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
)

// stats keeps per-day counters of the ledger for the charts, so a chart
// costs the days it shows, not the entries. It reads the ledger once in seq
// (commit) order in the background and then, every refresh, only the
// entries after the last seq it counted, so each entry is counted once even
// when it commits behind newer ones. Pruned entries stay counted.
type stats struct {
	ledger tailer
	store  counterStore // nil: counters live in memory only

	scan sync.Mutex // one scan at a time

	mu       sync.Mutex
	days     map[string]*dayCounts // by YYYY-MM-DD (UTC)
	lastSeq  uint64
	lastHash string // of entry lastSeq, to check saved counters against the ledger
	saved    uint64 // lastSeq when last saved
	savedAt  time.Time
	entries  uint64
	scanned  bool // the first full scan finished
	lastScan time.Duration
}

// tailer reads entries in seq order; *audit.Ledger is one.
type tailer interface {
	EntriesAfter(ctx context.Context, seq uint64, limit int) ([]audit.Entry, error)
	HashAt(ctx context.Context, seq uint64) (string, bool, error)
}

// counterStore keeps the counters across restarts; *audit.Reviews is one.
type counterStore interface {
	SaveCounters(ctx context.Context, name string, blob []byte) error
	LoadCounters(ctx context.Context, name string) ([]byte, error)
}

// countersName names the saved chart counters.
const countersName = "console-charts-v1"

// savedCounters is what is saved: the counters up to LastSeq, whose entry
// had LastHash.
type savedCounters struct {
	LastSeq  uint64                `json:"last_seq"`
	LastHash string                `json:"last_hash"`
	Entries  uint64                `json:"entries"`
	Days     map[string]*dayCounts `json:"days"`
}

// statsInterval is how often the counters catch up with the ledger. Each
// refresh reads only what is new, from audit's recent entries while it
// keeps up with them (a read of the file decrypts and decodes every entry
// again: under 1,000-entry searches at ~120/s, a refresh each second
// missed them and cost 3.8 % of the process's CPU). Four times a second
// keeps up with ~260,000 items/s (audit's recentItems); a refresh with
// nothing new costs microseconds.
const statsInterval = 250 * time.Millisecond

// saveEvery bounds the entries counted between two saves during a long
// count, so a restart resumes near where it stopped.
const saveEvery = 100_000

// saveInterval spaces the saves of a refresh that did not count saveEvery
// entries: each is a write transaction, and refresh runs four times a
// second.
const saveInterval = 10 * time.Second

// load adopts the saved counters if the ledger still holds their last
// entry with the same hash (else it counts from the start).
func (st *stats) load(ctx context.Context) {
	if st.store == nil {
		return
	}
	blob, err := st.store.LoadCounters(ctx, countersName)
	if err != nil || blob == nil {
		return
	}
	var sc savedCounters
	if json.Unmarshal(blob, &sc) != nil || sc.Days == nil {
		return
	}
	if hash, ok, err := st.ledger.HashAt(ctx, sc.LastSeq); err != nil || !ok || hash != sc.LastHash {
		return
	}
	st.mu.Lock()
	st.days, st.lastSeq, st.lastHash, st.entries, st.saved = sc.Days, sc.LastSeq, sc.LastHash, sc.Entries, sc.LastSeq
	st.mu.Unlock()
}

// save stores the counters when they moved since the last save.
func (st *stats) save(ctx context.Context) {
	if st.store == nil {
		return
	}
	st.mu.Lock()
	if st.lastSeq == st.saved {
		st.mu.Unlock()
		return
	}
	blob, err := json.Marshal(savedCounters{LastSeq: st.lastSeq, LastHash: st.lastHash, Entries: st.entries, Days: st.days})
	seq := st.lastSeq
	st.mu.Unlock()
	if err == nil && st.store.SaveCounters(ctx, countersName, blob) == nil {
		st.mu.Lock()
		st.saved, st.savedAt = seq, time.Now()
		st.mu.Unlock()
	}
}

// dayCounts are one day's counters.
type dayCounts struct {
	// Entries that disclosed something / withheld something, by purpose.
	DisclosedByPurpose map[string]int `json:"disclosed_by_purpose"`
	WithheldByPurpose  map[string]int `json:"withheld_by_purpose"`
	// Resources disclosed / withheld, by sensitivity topic.
	DisclosedByTopic map[string]int `json:"disclosed_by_topic"`
	WithheldByTopic  map[string]int `json:"withheld_by_topic"`
}

func newStats(l tailer, store counterStore) *stats {
	return &stats{ledger: l, store: store, days: map[string]*dayCounts{}}
}

// run loads the saved counters, counts what is new at once and then every
// interval until ctx ends.
func (st *stats) run(ctx context.Context, interval time.Duration) {
	st.scan.Lock()
	st.load(ctx)
	st.scan.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = st.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh counts the entries committed since the last scan.
func (st *stats) refresh(ctx context.Context) error {
	st.scan.Lock()
	defer st.scan.Unlock()
	start := time.Now()
	st.mu.Lock()
	after := st.lastSeq
	st.mu.Unlock()
	for {
		page, err := st.ledger.EntriesAfter(ctx, after, audit.MaxLimit)
		if err != nil {
			return err
		}
		st.mu.Lock()
		for _, e := range page {
			st.add(e)
			after, st.lastHash = e.Seq, e.Hash
		}
		st.lastSeq = after
		due := st.lastSeq-st.saved >= saveEvery
		st.mu.Unlock()
		if due {
			st.save(ctx)
		}
		if len(page) < audit.MaxLimit {
			break
		}
	}
	st.mu.Lock()
	due := time.Since(st.savedAt) >= saveInterval
	st.mu.Unlock()
	if due {
		st.save(ctx)
	}
	st.mu.Lock()
	st.scanned, st.lastScan = true, time.Since(start)
	st.mu.Unlock()
	return nil
}

// add counts e; st.mu is held.
func (st *stats) add(e audit.Entry) {
	st.entries++
	day := e.Time.UTC().Format(time.DateOnly)
	d := st.days[day]
	if d == nil {
		d = &dayCounts{map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}}
		st.days[day] = d
	}
	purposes := e.Purposes
	if len(purposes) == 0 {
		purposes = []string{"(none)"}
	}
	for _, p := range purposes {
		if len(e.Disclosed) > 0 {
			d.DisclosedByPurpose[p]++
		}
		if len(e.Withheld) > 0 {
			d.WithheldByPurpose[p]++
		}
	}
	countTopics(d.DisclosedByTopic, e.Disclosed)
	countTopics(d.WithheldByTopic, e.Withheld)
}

// notTopics are ActCode labels that are policies, obligations or refrains,
// not sensitivity topics.
var notTopics = map[string]bool{
	"42CFRPart2": true, "NORDSCLCD": true, "NORDSCLCDS": true, "NOREDISCLOSE": true,
	"PROCESSINLINELABEL": true, "REDACT": true, "HIPAAConsentCD": true, "DELAU": true,
}

// countTopics adds one per item for each sensitivity topic it carries
// (v3-ActCode labels other than policies and obligations), "(none)" for
// items that carry none.
func countTopics(m map[string]int, items []audit.Item) {
	for _, it := range items {
		found := false
		for _, l := range it.Labels {
			system, code, ok := strings.Cut(l, "|")
			if !ok || labels.NormalizeSystem(system) != labels.SystemActCode || notTopics[code] {
				continue
			}
			m[code]++
			found = true
		}
		if !found {
			m["(none)"]++
		}
	}
}

// maxChartDays bounds a chart's range.
const maxChartDays = 731

// auditStats answers the chart counters of the days from..to (dates,
// inclusive; default the last 30 days).
func (h *Handler) auditStats(w http.ResponseWriter, r *http.Request, _ *session, body []byte) {
	var in struct{ From, To string }
	if !decodeBody(w, body, &in) {
		return
	}
	to := h.cfg.Now().UTC()
	if in.To != "" {
		t, err := time.Parse(time.DateOnly, in.To)
		if err != nil {
			writeError(w, http.StatusBadRequest, "to must be a YYYY-MM-DD date")
			return
		}
		to = t
	}
	from := to.AddDate(0, 0, -29)
	if in.From != "" {
		f, err := time.Parse(time.DateOnly, in.From)
		if err != nil {
			writeError(w, http.StatusBadRequest, "from must be a YYYY-MM-DD date")
			return
		}
		from = f
	}
	days := int(to.Truncate(24*time.Hour).Sub(from.Truncate(24*time.Hour)).Hours()/24) + 1
	if days < 1 || days > maxChartDays {
		writeError(w, http.StatusBadRequest, "from must not be after to, and the range at most two years")
		return
	}
	if h.stats.counted() || h.stats.idle() { // bring the counters up to date first, unless the first count is under way
		if err := h.stats.refresh(r.Context()); err != nil {
			h.log.Error("console: chart counters", "error", err.Error())
		}
	}
	writeJSON(w, http.StatusOK, h.stats.series(from, days))
}

// counted reports whether the first count of the ledger finished (later
// refreshes read only new entries and are quick to wait for).
func (st *stats) counted() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.scanned
}

// idle reports whether no count is running.
func (st *stats) idle() bool {
	if !st.scan.TryLock() {
		return false
	}
	st.scan.Unlock()
	return true
}

// series returns the counters of days consecutive days from from.
func (st *stats) series(from time.Time, days int) map[string]any {
	st.mu.Lock()
	defer st.mu.Unlock()
	names := make([]string, days)
	counts := make([]*dayCounts, days)
	for i := range days {
		names[i] = from.AddDate(0, 0, i).Format(time.DateOnly)
		if d := st.days[names[i]]; d != nil {
			counts[i] = d
		} else {
			counts[i] = &dayCounts{}
		}
	}
	pick := func(f func(*dayCounts) map[string]int) map[string][]int {
		out := map[string][]int{}
		for i, d := range counts {
			for k, n := range f(d) {
				if out[k] == nil {
					out[k] = make([]int, days)
				}
				out[k][i] = n
			}
		}
		return out
	}
	return map[string]any{
		"days":                 names,
		"disclosed_by_purpose": pick(func(d *dayCounts) map[string]int { return d.DisclosedByPurpose }),
		"withheld_by_purpose":  pick(func(d *dayCounts) map[string]int { return d.WithheldByPurpose }),
		"disclosed_by_topic":   pick(func(d *dayCounts) map[string]int { return d.DisclosedByTopic }),
		"withheld_by_topic":    pick(func(d *dayCounts) map[string]int { return d.WithheldByTopic }),
		"entries_counted":      st.entries,
		"complete":             st.scanned,
		"last_scan_ms":         st.lastScan.Milliseconds(),
	}
}
