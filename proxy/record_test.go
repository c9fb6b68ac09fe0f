package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// gatedLedger holds every Append until the gate opens.
type gatedLedger struct {
	fakeLedger
	gate chan struct{}
	once sync.Once
}

func (g *gatedLedger) Append(ctx context.Context, es ...audit.Entry) error {
	<-g.gate
	return g.fakeLedger.Append(ctx, es...)
}

func (g *gatedLedger) open() { g.once.Do(func() { close(g.gate) }) }

// A withheld read answers without waiting for its ledger entry (a
// missing one records nothing, and the fsync would tell them apart); a
// disclosure waits until its entry is written. Flush (the audit endpoints,
// a clean stop) waits for the withheld one.
func TestWithheldOnlyResponsesDoNotWaitForTheLedger(t *testing.T) {
	t.Parallel()
	led := &gatedLedger{gate: make(chan struct{})}
	t.Cleanup(led.open)
	up := httptest.NewServer(fhirJSONHandler(200, sudCondition))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	// The server itself, without the harness's Flush after each request.
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 5 * time.Second}, Deps{
		Labeller: labels.Default(), Decider: eng, Ledger: led, Auth: fakeAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(tok string) <-chan int {
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, "/fhir/Condition/sud1", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, req)
			done <- w.Code
		}()
		return done
	}
	select {
	case code := <-get(tokOther):
		if code != http.StatusNotFound {
			t.Fatalf("withheld read: %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the withheld read waited for its ledger entry")
	}
	disclosed := get(tokConsented)
	select {
	case code := <-disclosed:
		t.Fatalf("a disclosure answered (%d) before its ledger entry was written", code)
	case <-time.After(200 * time.Millisecond):
	}
	flushed := make(chan struct{})
	go func() { srv.Flush(); close(flushed) }()
	select {
	case <-flushed:
		t.Fatal("Flush returned while the withheld read's entry was not written")
	case <-time.After(100 * time.Millisecond):
	}
	led.open()
	<-flushed
	if code := <-disclosed; code != http.StatusOK {
		t.Fatalf("consented read: %d", code)
	}
	entries, _ := led.Find(context.Background(), audit.Query{})
	var withheld, shown int
	for _, e := range entries {
		withheld += len(e.Withheld)
		shown += len(e.Disclosed)
	}
	if withheld != 1 || shown != 1 {
		t.Fatalf("ledger: %d withheld, %d disclosed; want 1 and 1", withheld, shown)
	}
}
