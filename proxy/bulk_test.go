package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/metric/noop"
)

// metricRecorder is a MeterProvider that sums Int64Counter adds by name.
// It is installed once as the global provider: the proxy's instruments
// delegate to it from then on.
type metricRecorder struct {
	embedded.MeterProvider
	mu   sync.Mutex
	sums map[string]int64
}

type recMeter struct {
	noop.Meter
	r *metricRecorder
}

type recCounter struct {
	noop.Int64Counter
	name string
	r    *metricRecorder
}

func (r *metricRecorder) Meter(string, ...metric.MeterOption) metric.Meter { return recMeter{r: r} }

func (m recMeter) Int64Counter(name string, _ ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return recCounter{name: name, r: m.r}, nil
}

func (c recCounter) Add(_ context.Context, v int64, _ ...metric.AddOption) {
	c.r.mu.Lock()
	c.r.sums[c.name] += v
	c.r.mu.Unlock()
}

func (c recCounter) Enabled(context.Context) bool { return true }

func (r *metricRecorder) sum(name string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sums[name]
}

var (
	metricsOnce sync.Once
	metrics     = &metricRecorder{sums: map[string]int64{}}
)

func recordMetrics() *metricRecorder {
	metricsOnce.Do(func() { otel.SetMeterProvider(metrics) })
	return metrics
}

// observationUpstream answers Observation/oN with an observation of
// Patient/pN.
func observationUpstream(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	w.Header().Set("Content-Type", "application/fhir+json")
	fmt.Fprintf(w, `{"resourceType":"Observation","id":%q,"status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p%s"}}`,
		id, strings.TrimPrefix(id, "o"))
}

func openAlerts(t *testing.T) *BoltAlerts {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	a, err := OpenAlerts(db)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func withBulk(rules BulkRules, store AlertStore, ev *recEvents) harnessOpt {
	return func(o *Options, d *Deps) {
		rules.Enabled = true
		o.Protection.Bulk = rules
		d.Auth, d.Alerts, d.Events = idAuth{}, store, ev
	}
}

// TestBulkPullAlertsBlocksAndClears is a scripted bulk pull across many
// patients: the request that crosses the threshold raises the alert (its
// ledger entry flagged, the metric, the events), the caller is blocked,
// the block survives a restart, and an auditor's clear lifts it.
func TestBulkPullAlertsBlocksAndClears(t *testing.T) {
	m := recordMetrics()
	before := m.sum("ds4p.bulk_access.alerts")
	store := openAlerts(t)
	ev := &recEvents{}
	rules := BulkRules{MaxPatients: 5, Block: true}
	h := newHarness(t, observationUpstream, withBulk(rules, store, ev))
	eve := "eve|Organization/e|app-e|" + readScopes
	auditor := "aud|Organization/ops|console|" + authn.AuditorScope
	for i := 1; i <= 6; i++ {
		if resp, body := h.get(fmt.Sprintf("/fhir/Observation/o%d", i), eve); resp.StatusCode != 200 {
			t.Fatalf("read %d: %d %s", i, resp.StatusCode, body)
		}
	}
	entries := h.ledger.entries
	if len(entries) != 6 {
		t.Fatalf("%d ledger entries, want 6", len(entries))
	}
	for i, e := range entries[:5] {
		if e.Alert != "" {
			t.Fatalf("entry %d flagged before the threshold: %q", i+1, e.Alert)
		}
	}
	alertID := entries[5].Alert
	if !strings.HasPrefix(alertID, "bulk-") || entries[5].Patient != "Patient/p6" {
		t.Fatalf("the crossing request's entry = %+v, want flagged with a bulk alert", entries[5])
	}
	if got := m.sum("ds4p.bulk_access.alerts") - before; got != 1 {
		t.Fatalf("ds4p.bulk_access.alerts rose by %d, want 1", got)
	}
	if k := ev.kinds(); k[siem.KindBulkAlert] != 1 || k[siem.KindCallerBlocked] != 1 {
		t.Fatalf("events = %v", k)
	}
	resp, body := h.get("/fhir/Observation/o7", eve)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, alertID) || !strings.Contains(body, "OperationOutcome") {
		t.Fatalf("blocked caller: %d %s, want 403 naming the alert", resp.StatusCode, body)
	}
	if resp, _ := h.get("/fhir/Observation/o1", "frank|Organization/e|app-e|"+readScopes); resp.StatusCode != 200 {
		t.Fatalf("another caller of the same organisation: %d, want 200", resp.StatusCode)
	}

	resp, body = h.get("/admin/alerts", auditor)
	var list struct {
		Alerts []Alert
		Count  int
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || list.Count != 1 {
		t.Fatalf("GET /admin/alerts = %d %s", resp.StatusCode, body)
	}
	a := list.Alerts[0]
	if a.ID != alertID || a.Kind != AlertKindBulkPatients || a.Count != 6 || a.Threshold != 5 || !a.Blocking || a.Subject != "eve" {
		t.Fatalf("alert = %+v", a)
	}
	for _, phi := range []string{"Patient/p", "o6", "p6"} {
		if strings.Contains(body, phi) {
			t.Fatalf("the alert list names a patient or resource (%q): %s", phi, body)
		}
	}

	// A restart on the same store keeps the block.
	h2 := newHarness(t, observationUpstream, withBulk(rules, store, ev))
	if resp, _ := h2.get("/fhir/Observation/o1", eve); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after a restart the blocked caller got %d, want 403", resp.StatusCode)
	}
	if resp, _ := h2.post("/admin/alerts/"+alertID+"/clear", eve, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("clearing without the auditor role: %d, want 403", resp.StatusCode)
	}
	if resp, body := h2.post("/admin/alerts/"+alertID+"/clear", auditor, ""); resp.StatusCode != 200 || !strings.Contains(body, `"status":"cleared"`) {
		t.Fatalf("clear: %d %s", resp.StatusCode, body)
	}
	if resp, body := h2.get("/fhir/Observation/o1", eve); resp.StatusCode != 200 {
		t.Fatalf("after the clear: %d %s, want 200", resp.StatusCode, body)
	}
	if resp, _ := h2.post("/admin/alerts/bulk-nope/clear", auditor, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("clearing an unknown alert: %d, want 404", resp.StatusCode)
	}
	if _, body := h2.get("/admin/alerts", auditor); !strings.Contains(body, `"count":0`) {
		t.Fatalf("open alerts after the clear: %s", body)
	}
	if k := ev.kinds(); k[siem.KindAlertCleared] != 1 {
		t.Fatalf("events = %v, want an alert_cleared", k)
	}
}

// TestBulkDetectorWindow checks the detector alone on a fake clock:
// patients seen longer ago than the window do not count, repeated
// patients count once, withheld items cross their own threshold, and
// only hashes are kept.
func TestBulkDetectorWindow(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	d := newBulkDetector(BulkRules{Window: time.Minute, MaxPatients: 3, MaxWithheld: 4}.withDefaults())
	d.now = clock.now
	caller := authn.Caller{Subject: "s"}
	touch := func(patients ...string) *bulkCrossing {
		var es []audit.Entry
		for _, p := range patients {
			es = append(es, audit.Entry{Patient: p})
		}
		return d.observe(caller, es)
	}
	if x := touch("Patient/a", "Patient/b", "Patient/a", "Patient/c"); x != nil {
		t.Fatalf("3 distinct patients crossed a threshold of 3: %+v", x)
	}
	clock.add(61 * time.Second) // a, b, c leave the window
	if x := touch("Patient/d", "Patient/e", "Patient/f"); x != nil {
		t.Fatalf("old patients still counted: %+v", x)
	}
	if x := touch("Patient/g"); x == nil || x.kind != AlertKindBulkPatients || x.count != 4 {
		t.Fatalf("4th distinct patient in the window: %+v", x)
	}
	if x := touch("Patient/h"); x != nil {
		t.Fatalf("the window restarts after an alert: %+v", x)
	}
	withheld := audit.Entry{Withheld: []audit.Item{{Type: "Condition"}, {Type: "Condition"}}, Redacted: []audit.Item{{Type: "Observation"}}}
	if x := d.observe(caller, []audit.Entry{withheld}); x != nil {
		t.Fatalf("3 withheld: %+v", x)
	}
	if x := d.observe(caller, []audit.Entry{withheld}); x == nil || x.kind != AlertKindBulkWithheld || x.count != 6 {
		t.Fatalf("6 withheld over a threshold of 4: %+v", x)
	}
	bc := d.by[bulkKey(caller)].Value.(*bulkCaller)
	for h := range bc.patients {
		if h == 0 {
			t.Fatal("zero hash")
		}
	}
}

// TestBulkDetectorMemoryBound: callers beyond MaxTracked are dropped,
// least recently seen first.
func TestBulkDetectorMemoryBound(t *testing.T) {
	t.Parallel()
	d := newBulkDetector(BulkRules{MaxTracked: 100}.withDefaults())
	for i := range 10_000 {
		d.observe(authn.Caller{Subject: fmt.Sprint("s", i)}, []audit.Entry{{Patient: "Patient/x"}})
	}
	if d.lru.Len() > 100 || len(d.by) != d.lru.Len() {
		t.Fatalf("tracked callers = %d (map %d), want at most 100", d.lru.Len(), len(d.by))
	}
	if _, ok := d.by["sub:s9999"]; !ok {
		t.Fatal("the newest caller is not tracked")
	}
}

// TestAlertSelfClearRefused: QA's caller blocked by bulk-access detection
// also held ds4p/auditor and cleared its own alert (200, cleared_by the
// same subject), which unblocked it. A blocked caller's admin requests are
// refused as its FHIR requests are, and the caller an alert flags may not
// clear it even when it does not block (separation of duties): 403,
// nothing cleared; another auditor may.
func TestAlertSelfClearRefused(t *testing.T) {
	for _, block := range []bool{true, false} {
		t.Run(fmt.Sprintf("block=%v", block), func(t *testing.T) {
			store := openAlerts(t)
			ev := &recEvents{}
			h := newHarness(t, observationUpstream, withBulk(BulkRules{MaxPatients: 2, Block: block}, store, ev))
			self := "selfclr|Organization/e|app-e|" + readScopes + " " + authn.AuditorScope
			for i := 1; i <= 3; i++ {
				if resp, body := h.get(fmt.Sprintf("/fhir/Observation/o%d", i), self); resp.StatusCode != 200 {
					t.Fatalf("read %d: %d %s", i, resp.StatusCode, body)
				}
			}
			list, err := store.Alerts(t.Context(), false)
			if err != nil || len(list) != 1 || list[0].Subject != "selfclr" {
				t.Fatalf("alerts = %+v, %v", list, err)
			}
			id := list[0].ID
			if block {
				resp, body := h.get("/admin/audit?patient=Patient/p1", self)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, id) {
					t.Fatalf("the blocked caller's ledger query: %d %s, want 403 naming the alert", resp.StatusCode, body)
				}
			}
			for _, who := range []string{
				self,
				"selfclr|Organization/ops|console|" + authn.AuditorScope, // the same subject through another client
				"aud2|Organization/ops|app-e|" + authn.AuditorScope,      // the flagged caller's client
			} {
				resp, body := h.post("/admin/alerts/"+id+"/clear", who, "")
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("clear by %q: %d %s, want 403", who, resp.StatusCode, body)
				}
			}
			if a, _, _ := store.GetAlert(t.Context(), id); a.Status != AlertOpen {
				t.Fatalf("a refused clear changed the alert: %+v", a)
			}
			if block {
				if resp, _ := h.get("/fhir/Observation/o1", self); resp.StatusCode != http.StatusForbidden {
					t.Fatalf("still blocked after the refused clears: %d, want 403", resp.StatusCode)
				}
			}
			resp, body := h.post("/admin/alerts/"+id+"/clear", "aud|Organization/ops|console|"+authn.AuditorScope, "")
			if resp.StatusCode != 200 || !strings.Contains(body, `"cleared_by":"aud"`) {
				t.Fatalf("another auditor's clear: %d %s", resp.StatusCode, body)
			}
			if resp, body := h.get("/fhir/Observation/o1", self); resp.StatusCode != 200 {
				t.Fatalf("after another auditor's clear: %d %s, want 200", resp.StatusCode, body)
			}
		})
	}
}

// TestServerBlocked: Blocked, which the web console asks for the calls it
// answers from the ledger itself, reports the block of an open alert (kept
// across a restart) by the caller's subject, else client, and no longer
// once an auditor cleared it.
func TestServerBlocked(t *testing.T) {
	t.Parallel()
	store := openAlerts(t)
	for _, a := range []Alert{
		{ID: "bulk-1", Status: AlertOpen, Caller: "sub:eve", Subject: "eve", Client: "app-e", Blocking: true, RaisedAt: time.Now()},
		{ID: "bulk-2", Status: AlertOpen, Caller: "client:etl", Client: "etl", Blocking: true, RaisedAt: time.Now()},
	} {
		if err := store.PutAlert(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := policy.New(t.Context(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://upstream.invalid/fhir")
	srv, err := New(Options{Upstream: u, Protection: Protection{Bulk: BulkRules{Enabled: true, MaxPatients: 5, Block: true}}},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: idAuth{}, Consents: &fakeConsents{},
			Alerts: store, Events: &recEvents{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		subject, client, id string
	}{{"eve", "other", "bulk-1"}, {"", "etl", "bulk-2"}, {"frank", "app-e", ""}, {"frank", "etl", ""}} {
		if id, ok := srv.Blocked(c.subject, c.client); id != c.id || ok != (c.id != "") {
			t.Errorf("Blocked(%q, %q) = %q, %v; want %q", c.subject, c.client, id, ok, c.id)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/admin/alerts/bulk-1/clear", nil)
	req.Header.Set("Authorization", "Bearer aud|Organization/ops|console|"+authn.AuditorScope)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("clear: %d %s", rec.Code, rec.Body)
	}
	if id, ok := srv.Blocked("eve", "app-e"); ok {
		t.Fatalf("still blocked by %s after the clear", id)
	}
}
