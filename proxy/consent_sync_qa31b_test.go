package proxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// expungeFHIR is a historyFHIR that can also expunge a consent (remove it
// and its history, as HAPI's $expunge does) and answers Consent?_id=a,b
// searches with the consents it holds of those ids (idStatus, when set, is
// what such a search answers instead; refuseElements answers 400 to a
// search with _elements). It counts the _id searches and the longest URL.
type expungeFHIR struct {
	*historyFHIR
	mu             sync.Mutex
	idStatus       int
	refuseElements bool
	ignoreID       bool // answer a Consent?_id= search as any Consent search: every consent
	idSearches     int
	longestURL     int
	fullSearches   int // Consent searches naming neither _id nor _lastUpdated
}

func newExpungeFHIR() *expungeFHIR { return &expungeFHIR{historyFHIR: newHistoryFHIR()} }

// expunge removes consent id and every history entry of it.
func (f *expungeFHIR) expunge(id string) {
	f.historyFHIR.mu.Lock()
	defer f.historyFHIR.mu.Unlock()
	delete(f.current, id)
	delete(f.updated, id)
	f.log = slices.DeleteFunc(f.log, func(e historyEntry) bool { return e.id == id })
}

func (f *expungeFHIR) handler(w http.ResponseWriter, r *http.Request) {
	ids := r.URL.Query().Get("_id")
	if r.URL.Path == "/fhir/R4/Consent" && ids == "" && !r.URL.Query().Has("_lastUpdated") {
		f.mu.Lock()
		f.fullSearches++
		f.mu.Unlock()
	}
	if r.URL.Path != "/fhir/R4/Consent" || ids == "" {
		f.historyFHIR.handler(w, r)
		return
	}
	f.mu.Lock()
	f.idSearches++
	f.longestURL = max(f.longestURL, len(r.URL.RequestURI()))
	status, refuse, ignore := f.idStatus, f.refuseElements, f.ignoreID
	f.mu.Unlock()
	if ignore {
		f.historyFHIR.handler(w, r)
		return
	}
	outcome := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported"}]}`
	switch {
	case status != 0:
		f.answer(w, status, outcome)
		return
	case refuse && r.URL.Query().Has("_elements"):
		f.answer(w, http.StatusBadRequest, outcome)
		return
	}
	f.historyFHIR.mu.Lock()
	var entries []string
	for _, id := range strings.Split(ids, ",") {
		if _, ok := f.current[id]; ok {
			entries = append(entries, `{"resource":{"resourceType":"Consent","id":"`+id+`","meta":{"tag":[{"code":"SUBSETTED"}]}},"search":{"mode":"match"}}`)
		}
	}
	f.historyFHIR.mu.Unlock()
	f.answer(w, http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)
}

// newExpungeSetup is newHistorySetup in front of f's own handler.
func newExpungeSetup(t *testing.T, f *expungeFHIR) (*upstreamSetup, *sourcedConsents) {
	t.Helper()
	store := openConsentStore(t)
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(f.handler))
	t.Cleanup(hs.upstream.Close)
	up, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: up, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: fakeAuth{}, Consents: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the test runs the rounds itself
	if err := srv.UseConsentSources(ctx, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	return &upstreamSetup{harness: hs, fhir: f.fakeFHIR, store: store, server: srv}, srv.consents.(*sourcedConsents)
}

// TestSyncNoticesExpungedPermitQA31B: a permit removed at the upstream with
// no history entry (HAPI's $expunge, a hard delete that erases its history
// too) stops disclosing after the next round, an incremental one, and
// leaves the stored mirror. Neither the incremental search nor the type
// history lists it, so it disclosed until the next full round, up to ten
// sync intervals. The round stays incremental (u2's change is read by
// _lastUpdated), and a consent expunged and created again under its id
// stays as now written.
func TestSyncNoticesExpungedPermitQA31B(t *testing.T) {
	t.Parallel()
	f := newExpungeFHIR()
	u, sc := newExpungeSetup(t, f)
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	f.put("u2", upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
	f.put("u3", upstreamConsent("u3", "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("consented: %d, want 200", code)
	}
	f.expunge("u1")
	f.expunge("u3")
	f.put("u3", upstreamConsent("u3", "1", "2026-01-01T00:00:00Z", "Organization/org-c")) // created again
	f.put("u2", upstreamConsent("u2", "2", "2026-01-01T00:00:00Z", "Organization/org-b"))
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental
		t.Fatal(err)
	}
	if f.idSearches == 0 {
		t.Error("the incremental round asked no Consent?_id= search")
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the upstream expunged the permit and a round ran: %d, want 404", code)
	}
	if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u2,u3" {
		t.Errorf("the stored mirror holds %v, want [u2 u3]", ids)
	}
	e, err := sc.mirror.get("Patient/p1")
	var held []string
	for _, n := range e.consents {
		held = append(held, n.ID+"@"+n.Version)
	}
	if err != nil || strings.Join(held, ",") != "upstream:u2@2,upstream:u3@1" {
		t.Errorf("the mirror holds %v, %v; want u2 v2 and u3", held, err)
	}

	// Across a restart: the stored mirror loaded again, the permit
	// expunged meanwhile, the first round (incremental) drops it.
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted again: %d, want 200", code)
	}
	f.expunge("u1")
	restarted := &sourcedConsents{consentManager: sc.consentManager, s: sc.s, cfg: sc.cfg, merged: sc.merged,
		mirror: &consentMirror{}, persist: sc.persist}
	since, round = restarted.resume(bg)
	if !restarted.mirror.holds("upstream:u1") {
		t.Fatal("the stored mirror did not hold u1")
	}
	if err := restarted.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if restarted.mirror.holds("upstream:u1") {
		t.Error("the first round after a restart kept the expunged permit")
	}
}

// TestSyncUnsureWhichConsentsRemainReadsAllQA31B: an upstream that cannot
// answer Consent?_id= (400, 500) makes the round a full one, which drops
// the expunged permit; one that refuses only _elements is asked again
// without it, and the round stays incremental.
func TestSyncUnsureWhichConsentsRemainReadsAllQA31B(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		status         int
		refuseElements bool
		fullRounds     int
	}{
		{name: "refuses _elements", refuseElements: true, fullRounds: 1},
		{name: "400", status: http.StatusBadRequest, fullRounds: 2},
		{name: "500", status: http.StatusInternalServerError, fullRounds: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newExpungeFHIR()
			u, sc := newExpungeSetup(t, f)
			f.idStatus, f.refuseElements = tc.status, tc.refuseElements
			f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
			f.put("u2", upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
			var since time.Time
			round := 0
			bg := context.Background()
			if err := sc.syncRound(bg, &since, &round); err != nil {
				t.Fatal(err)
			}
			f.expunge("u1")
			if err := sc.syncRound(bg, &since, &round); err != nil {
				t.Fatal(err)
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("after the upstream expunged the permit and a round ran: %d, want 404", code)
			}
			if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u2" {
				t.Errorf("the stored mirror holds %v, want [u2]", ids)
			}
			if f.fullSearches != tc.fullRounds {
				t.Errorf("%d full rounds, want %d", f.fullSearches, tc.fullRounds)
			}
		})
	}
}

// TestSyncPresenceCheckCostQA31B measures the check for 10,000 mirrored
// consents with UUID ids: how many Consent?_id= searches an incremental
// round asks, and how long its URLs are (not timed: counted).
func TestSyncPresenceCheckCostQA31B(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("10,000 consents")
	}
	f := newExpungeFHIR()
	_, sc := newExpungeSetup(t, f)
	const n = 10_000
	for i := range n {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		f.put(id, upstreamConsent(id, "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
	}
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if got := len(sc.mirror.ids()); got != n {
		t.Fatalf("the mirror holds %d ids, want %d", got, n)
	}
	began := time.Now()
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental
		t.Fatal(err)
	}
	took := time.Since(began)
	if want := n/(presenceQuery/39) + 1; f.idSearches > want {
		t.Errorf("%d Consent?_id= searches for %d consents, want at most %d", f.idSearches, n, want)
	}
	if f.longestURL > 4096 {
		t.Errorf("a Consent?_id= URL of %d bytes, want at most 4096", f.longestURL)
	}
	t.Logf("%d mirrored consents: %d Consent?_id= searches, longest URL %d bytes, round %v", n, f.idSearches, f.longestURL, took)
}
