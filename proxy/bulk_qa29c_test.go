package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// gatedAlerts is an alert store whose PutAlert waits until released.
type gatedAlerts struct {
	AlertStore
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedAlerts) PutAlert(ctx context.Context, a Alert) error {
	g.once.Do(func() { close(g.entered) })
	<-g.release
	return g.AlertStore.PutAlert(ctx, a)
}

// TestWithheldCrossingAnswersWithoutWaitingForTheAlert (QA29 C): a
// withheld-only response is answered without waiting for its ledger
// entries, so that a withheld resource answers as fast as a missing one;
// but the request that crossed a bulk threshold stored its alert (an
// fsynced bbolt write) and queued its events (more) before its 404 left.
// Reading one id again and again, a caller saw the 501st 404 come late
// exactly when the id was withheld (each withheld read counts towards
// max_withheld, a missing one nothing): a timing tell of withheld against
// absent, with detection in its default, alert-only, mode. The alert of a
// withheld-only response is now stored and announced behind it, as its
// ledger entries are (Server.Flush waits for both); a block takes effect
// at once.
func TestWithheldCrossingAnswersWithoutWaitingForTheAlert(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(fhirJSONHandler(http.StatusOK, sudCondition))
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	store := &gatedAlerts{AlertStore: openAlerts(t), entered: make(chan struct{}), release: make(chan struct{})}
	ev := &recEvents{}
	o := Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20}
	o.Protection.Bulk = BulkRules{Enabled: true, MaxWithheld: 2, Block: true}
	srv, err := New(o, Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: idAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}},
		Alerts:   store, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(srv.Handler())
	t.Cleanup(proxy.Close)
	mallory := "mallory|Organization/m|app-m|" + readScopes
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, proxy.URL+"/fhir/Condition/sud1", nil)
		req.Header.Set("Authorization", "Bearer "+mallory)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 2 {
		if code := get(); code != http.StatusNotFound {
			t.Fatalf("withheld read %d: %d, want 404", i+1, code)
		}
	}
	// The third withheld read crosses max_withheld: its 404 must not wait
	// for the alert store.
	done := make(chan int, 1)
	go func() { done <- get() }()
	var code int
	select {
	case code = <-done:
	case <-store.entered:
		select {
		case code = <-done:
		case <-time.After(10 * time.Second):
			close(store.release)
			<-done
			t.Fatal("the crossing request's 404 waited for its alert to be stored")
		}
	}
	if code != http.StatusNotFound {
		t.Fatalf("the crossing read: %d, want 404", code)
	}
	// An auditor listing the alerts meanwhile sees it once it is stored
	// (GET /admin/alerts waits for the alerts written behind responses).
	listed := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, proxy.URL+"/admin/alerts", nil)
		req.Header.Set("Authorization", "Bearer aud|Organization/ops|console|"+authn.AuditorScope)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			listed <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		listed <- string(b)
	}()
	var list string
	select {
	case list = <-listed: // answered while the store was held
	case <-time.After(200 * time.Millisecond):
		close(store.release)
		list = <-listed
	}
	if !strings.Contains(list, `"count":1`) || !strings.Contains(list, AlertKindBulkWithheld) {
		t.Errorf("GET /admin/alerts after the crossing read: %s; want the alert", list)
	}
	select {
	case <-store.release:
	default:
		close(store.release)
	}
	srv.Flush() // the alert and its events are written behind the response
	alerts, err := store.Alerts(context.Background(), false)
	if err != nil || len(alerts) != 1 || alerts[0].Kind != AlertKindBulkWithheld {
		t.Fatalf("stored alerts after Flush: %+v, %v; want the bulk_withheld alert", alerts, err)
	}
	if k := ev.kinds(); k["bulk_alert"] != 1 || k["caller_blocked"] != 1 {
		t.Errorf("events after Flush: %v", k)
	}
	if code := get(); code != http.StatusForbidden {
		t.Errorf("the flagged caller's next request: %d, want 403 (blocked)", code)
	}
}
