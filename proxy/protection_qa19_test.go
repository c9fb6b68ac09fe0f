package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"github.com/ds4p/ds4p/siem"
)

// TestLimiterClockStepBack: a wall clock stepped back an hour (NTP, a
// resumed VM) must not drain the buckets: a caller with tokens left is
// still let through, and one request later the bucket counts from the
// new time.
func TestLimiterClockStepBack(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC).UnixNano())
	l := newLimiter(RateLimits{Read: Limit{Rate: 100, Burst: 400}}.withDefaults())
	l.now = clock.now
	vals := [numDims]string{"s", "c", "o"}
	if v := l.allow(0, vals); !v.ok {
		t.Fatal("first request refused")
	}
	clock.add(-time.Hour)
	for i := range 10 {
		if v := l.allow(0, vals); !v.ok {
			t.Fatalf("request %d after the clock went back an hour refused for %s (%s bucket)", i, v.retryAfter, dimNames[v.dim])
		}
	}
}

// TestClearOneOfTwoBlockingAlerts: a caller flagged twice (concurrent
// large searches each crossing the threshold) stays blocked until both
// alerts are cleared, whichever is cleared first, after a restart too.
func TestClearOneOfTwoBlockingAlerts(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"bulk-old", "bulk-new"} {
		t.Run(first, func(t *testing.T) {
			t.Parallel()
			store := openAlerts(t)
			at := time.Now().Add(-time.Hour)
			for i, id := range []string{"bulk-old", "bulk-new"} {
				a := Alert{ID: id, Kind: AlertKindBulkPatients, Status: AlertOpen, Caller: "sub:eve", Subject: "eve", Client: "app-e",
					Blocking: true, RaisedAt: at.Add(time.Duration(i) * time.Minute)}
				if err := store.PutAlert(t.Context(), a); err != nil {
					t.Fatal(err)
				}
			}
			srv := blockServer(t, store)
			second := map[string]string{"bulk-old": "bulk-new", "bulk-new": "bulk-old"}[first]
			clearAs(t, srv, first)
			if id, ok := srv.Blocked("eve", "app-e"); !ok || id != second {
				t.Fatalf("after clearing %s: Blocked = %q, %v; want still blocked by %s", first, id, ok, second)
			}
			// The same through the FHIR edge.
			req := httptest.NewRequest(http.MethodGet, "/fhir/Observation/o1", nil)
			req.Header.Set("Authorization", "Bearer eve|Organization/e|app-e|"+readScopes)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), second) {
				t.Fatalf("blocked caller after one clear: %d %s", rec.Code, rec.Body)
			}
			clearAs(t, srv, second)
			if id, ok := srv.Blocked("eve", "app-e"); ok {
				t.Fatalf("still blocked by %s after both clears", id)
			}
		})
	}
}

func blockServer(t *testing.T, store AlertStore) *Server {
	t.Helper()
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
	return srv
}

func clearAs(t *testing.T, srv *Server, id string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/admin/alerts/"+id+"/clear", nil)
	req.Header.Set("Authorization", "Bearer aud|Organization/ops|console|"+authn.AuditorScope)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("clear %s: %d %s", id, rec.Code, rec.Body)
	}
}

// TestBlockHoldsWithDetectionOff: a server started with bulk detection
// off keeps refusing a caller an open blocking alert flags, and the
// alert can still be listed and cleared.
func TestBlockHoldsWithDetectionOff(t *testing.T) {
	t.Parallel()
	store := openAlerts(t)
	a := Alert{ID: "bulk-off", Kind: AlertKindBulkPatients, Status: AlertOpen, Caller: "sub:eve", Subject: "eve", Client: "app-e",
		Blocking: true, RaisedAt: time.Now()}
	if err := store.PutAlert(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(t.Context(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://upstream.invalid/fhir")
	srv, err := New(Options{Upstream: u}, // Protection.Bulk not enabled
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: idAuth{}, Consents: &fakeConsents{},
			Alerts: store, Events: &recEvents{}})
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := srv.Blocked("eve", "app-e"); !ok || id != "bulk-off" {
		t.Fatalf("Blocked = %q, %v with detection off; want bulk-off", id, ok)
	}
	req := httptest.NewRequest(http.MethodGet, "/fhir/Observation/o1", nil)
	req.Header.Set("Authorization", "Bearer eve|Organization/e|app-e|"+readScopes)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "bulk-off") {
		t.Fatalf("flagged caller with detection off: %d %s, want 403", rec.Code, rec.Body)
	}
	clearAs(t, srv, "bulk-off")
	if id, ok := srv.Blocked("eve", "app-e"); ok {
		t.Fatalf("still blocked by %s after the clear", id)
	}
}

// flakyAlerts refuses PutAlert while fail is set.
type flakyAlerts struct {
	*BoltAlerts
	fail atomic.Bool
}

func (f *flakyAlerts) PutAlert(ctx context.Context, a Alert) error {
	if f.fail.Load() {
		return errors.New("disk full")
	}
	return f.BoltAlerts.PutAlert(ctx, a)
}

// TestUnstoredAlertListedAndClearable: an alert the store refused still
// blocks, and the on-call can see it and an auditor clear it (before,
// GET /admin/alerts did not list it and its clear answered 404, so the
// block held until a restart, which dropped it).
func TestUnstoredAlertListedAndClearable(t *testing.T) {
	t.Parallel()
	store := &flakyAlerts{BoltAlerts: openAlerts(t)}
	store.fail.Store(true)
	h := newHarness(t, observationUpstream, withBulk(BulkRules{MaxPatients: 5, Block: true}, store, &recEvents{}))
	eve := "eve|Organization/e|app-e|" + readScopes
	auditor := "aud|Organization/ops|console|" + authn.AuditorScope
	for i := 1; i <= 6; i++ {
		if resp, body := h.get(fmt.Sprintf("/fhir/Observation/o%d", i), eve); resp.StatusCode != 200 {
			t.Fatalf("read %d: %d %s", i, resp.StatusCode, body)
		}
	}
	id := h.ledger.entries[5].Alert
	if resp, body := h.get("/fhir/Observation/o7", eve); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, id) || id == "" {
		t.Fatalf("flagged caller: %d %s, want 403 naming %q", resp.StatusCode, body, id)
	}
	if resp, body := h.get("/admin/alerts", auditor); resp.StatusCode != 200 || !strings.Contains(body, id) || !strings.Contains(body, `"count":1`) {
		t.Fatalf("GET /admin/alerts: %d %s, want the unstored alert %s", resp.StatusCode, body, id)
	}
	if resp, body := h.post("/admin/alerts/"+id+"/clear", auditor, ""); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("clear with the store still failing: %d %s, want 500", resp.StatusCode, body)
	}
	if resp, _ := h.get("/fhir/Observation/o7", eve); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after a failed clear: %d, want still 403", resp.StatusCode)
	}
	store.fail.Store(false)
	if resp, body := h.post("/admin/alerts/"+id+"/clear", auditor, ""); resp.StatusCode != 200 || !strings.Contains(body, `"status":"cleared"`) {
		t.Fatalf("clear: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o7", eve); resp.StatusCode != 200 {
		t.Fatalf("after the clear: %d %s", resp.StatusCode, body)
	}
	if a, ok, err := store.GetAlert(t.Context(), id); err != nil || !ok || a.Status != AlertCleared {
		t.Fatalf("stored after the clear: %+v %v %v", a, ok, err)
	}
	if _, body := h.get("/admin/alerts", auditor); !strings.Contains(body, `"count":0`) {
		t.Fatalf("open alerts after the clear: %s", body)
	}
}

// TestBatchChargesItsEntries: a batch of GETs costs as many read tokens
// as it has entries (before, one write token), so batching reads does
// not lift the read limit; a batch larger than the burst still passes
// once, and the Bundle reaches the FHIR server unchanged.
func TestBatchChargesItsEntries(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	upstream := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			got.Store(string(b))
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"batch-response","entry":[]}`))
			return
		}
		observationUpstream(w, r)
	}
	h := newHarness(t, upstream, withLimits(RateLimits{Read: Limit{Rate: 0.01, Burst: 10}, ClientFactor: 100, OrgFactor: 100}, nil))
	alice := "alice|Organization/a|app-a|" + readScopes
	var entries []string
	for i := range 50 {
		entries = append(entries, fmt.Sprintf(`{"request":{"method":"GET","url":"Observation/o%d"}}`, i))
	}
	bundle := `{"resourceType":"Bundle","type":"batch","entry":[` + strings.Join(entries, ",") + `]}`
	if resp, body := h.post("/fhir/", alice, bundle); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("first batch: %d %s, want it let through (the read bucket holds tokens)", resp.StatusCode, body)
	}
	if s, _ := got.Load().(string); s != bundle {
		t.Fatalf("the FHIR server got another body than the caller's: %d bytes of %d", len(s), len(bundle))
	}
	resp, body := h.get("/fhir/Observation/o1", alice)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "read") {
		t.Fatalf("a read after a 50-GET batch with a read burst of 10: %d %s, want 429", resp.StatusCode, body)
	}
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 3000 {
		t.Fatalf("Retry-After = %q, want the debt of about 40 reads at 0.01/s", resp.Header.Get("Retry-After"))
	}
	if resp, _ := h.post("/fhir/", alice, bundle); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second batch: %d, want 429", resp.StatusCode)
	}
	if resp, _ := h.get("/fhir/Observation/o1", "bob|Organization/b|app-b|"+readScopes); resp.StatusCode != 200 {
		t.Fatalf("another caller: %d", resp.StatusCode)
	}
}

// TestLimiterRefundUnderOwnBurst: when a smaller organisation bucket
// refuses, the subject's token comes back in full (it was capped at the
// organisation's burst).
func TestLimiterRefundUnderOwnBurst(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	l := newLimiter(RateLimits{Read: Limit{Rate: 0.001, Burst: 4}, ClientFactor: 1, OrgFactor: 0.25}.withDefaults())
	l.now = clock.now
	if v := l.allow(0, [numDims]string{"s", "c", "o"}); !v.ok { // subject 3 left, org 0
		t.Fatal("first request refused")
	}
	if v := l.allow(0, [numDims]string{"s", "c", "o"}); v.ok || v.dim != dimOrg {
		t.Fatalf("second = %+v, want the org to refuse", v)
	}
	for i := range 3 { // the subject still holds 3
		if v := l.allow(0, [numDims]string{"s", fmt.Sprint("c", i), fmt.Sprint("o", i)}); !v.ok {
			t.Fatalf("subject's request %d with another org refused (%s): its refund was capped", i+1, dimNames[v.dim])
		}
	}
}

// TestClearTwiceRecordsOneClear: clearing a cleared alert again answers
// it as it is, without a second alert_cleared event.
func TestClearTwiceRecordsOneClear(t *testing.T) {
	t.Parallel()
	store := openAlerts(t)
	ev := &recEvents{}
	a := Alert{ID: "bulk-twice", Kind: AlertKindBulkPatients, Status: AlertOpen, Caller: "sub:eve", Subject: "eve", Client: "app-e",
		Blocking: true, RaisedAt: time.Now()}
	if err := store.PutAlert(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, observationUpstream, withBulk(BulkRules{MaxPatients: 5, Block: true}, store, ev))
	for _, who := range []string{"aud", "aud2"} {
		resp, body := h.post("/admin/alerts/bulk-twice/clear", who+"|Organization/ops|console-"+who+"|"+authn.AuditorScope, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"cleared_by":"aud"`) {
			t.Fatalf("clear by %s: %d %s, want 200 cleared by aud", who, resp.StatusCode, body)
		}
	}
	if k := ev.kinds(); k[siem.KindAlertCleared] != 1 {
		t.Fatalf("events = %v, want one alert_cleared", k)
	}
}
