package proxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// historyFHIR is a fakeFHIR that keeps its consents' history: its Consent
// search honours _lastUpdated=gt..., its type history
// (Consent/_history?_since=) lists each write since, newest first, a
// deletion as a DELETE entry without resource, paged by pageSize with next
// links. historyStatus, when set, is what the history answers instead, with
// historyBody.
type historyFHIR struct {
	*fakeFHIR
	mu            sync.Mutex
	tick          time.Time // the upstream's clock: moves a second per write
	current       map[string]string
	updated       map[string]time.Time
	log           []historyEntry
	pageSize      int
	historyStatus int
	historyBody   string
	nextPath      string   // the path of the history's next links ("": its own)
	histories     int      // history pages answered
	ignoreSince   bool     // the history lists every write, _since or not
	readStatus    int      // when set, what a read of a Consent answers
	readBody      string   // with readStatus: its body ("": an OperationOutcome)
	searchStatus  int      // when set, what the Consent search answers
	older         []string // older versions a full search lists too
	olderAlways   bool     // and incremental ones
}

type historyEntry struct {
	at     time.Time
	id     string
	body   string // "": deleted
	method string
	url    string // request.url ("": Consent/<id>)
}

func newHistoryFHIR() *historyFHIR {
	return &historyFHIR{fakeFHIR: &fakeFHIR{}, tick: time.Now().Add(-time.Hour).Truncate(time.Second),
		current: map[string]string{}, updated: map[string]time.Time{}}
}

func (f *historyFHIR) now() time.Time {
	f.tick = f.tick.Add(time.Second)
	return f.tick
}

// put writes consent id (body: upstreamConsent's, stamped now).
func (f *historyFHIR) put(id, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := f.now()
	body = strings.Replace(body, `"lastUpdated":"2026-01-01T00:00:00Z"`, `"lastUpdated":"`+at.UTC().Format(time.RFC3339Nano)+`"`, 1)
	method := http.MethodPut
	if _, ok := f.current[id]; !ok {
		method = http.MethodPost
	}
	f.current[id], f.updated[id] = body, at
	f.log = append(f.log, historyEntry{at: at, id: id, body: body, method: method})
}

// del deletes consent id; requestURL, when set, is the entry's request.url.
func (f *historyFHIR) del(id, requestURL string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := f.now()
	delete(f.current, id)
	delete(f.updated, id)
	f.log = append(f.log, historyEntry{at: at, id: id, method: http.MethodDelete, url: requestURL})
}

func (f *historyFHIR) handler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/fhir/R4/Consent":
		f.search(w, r)
	case "/fhir/R4/Consent/_history":
		f.history(w, r)
	default:
		id, ok := strings.CutPrefix(r.URL.Path, "/fhir/R4/Consent/")
		if !ok || strings.Contains(id, "/") {
			f.fakeFHIR.handler(w, r)
			return
		}
		f.read(w, id)
	}
}

// read answers GET Consent/<id>: the consent, 410 when deleted, 404 when
// never written.
func (f *historyFHIR) read(w http.ResponseWriter, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	outcome := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`
	switch body, ok := f.current[id]; {
	case f.readStatus != 0:
		f.answer(w, f.readStatus, cmpOr(f.readBody, outcome))
	case ok:
		f.answer(w, http.StatusOK, body)
	case slices.ContainsFunc(f.log, func(e historyEntry) bool { return e.id == id }):
		f.answer(w, http.StatusGone, outcome)
	default:
		f.answer(w, http.StatusNotFound, outcome)
	}
}

func (f *historyFHIR) answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Date", f.tick.Add(time.Second/2).UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (f *historyFHIR) search(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.searchStatus != 0 {
		f.answer(w, f.searchStatus, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
		return
	}
	var after time.Time
	if gt, ok := strings.CutPrefix(r.URL.Query().Get("_lastUpdated"), "gt"); ok {
		after, _ = time.Parse(time.RFC3339, gt)
	}
	var entries []string
	if after.IsZero() || f.olderAlways {
		for _, body := range f.older {
			entries = append(entries, `{"resource":`+body+`,"search":{"mode":"match"}}`)
		}
	}
	for id, at := range f.updated {
		if after.IsZero() || at.After(after) {
			entries = append(entries, `{"resource":`+f.current[id]+`,"search":{"mode":"match"}}`)
		}
	}
	f.answer(w, http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)
}

func (f *historyFHIR) history(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.histories++
	if f.historyStatus != 0 {
		f.answer(w, f.historyStatus, f.historyBody)
		return
	}
	since, err := time.Parse(time.RFC3339, r.URL.Query().Get("_since"))
	if err != nil {
		f.answer(w, http.StatusBadRequest, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`)
		return
	}
	var all []string
	for i := len(f.log) - 1; i >= 0; i-- { // newest first
		e := f.log[i]
		if e.at.Before(since) && !f.ignoreSince {
			continue
		}
		if e.method == http.MethodDelete {
			all = append(all, fmt.Sprintf(`{"request":{"method":"DELETE","url":%q},"response":{"status":"410 Gone"}}`, cmpOr(e.url, "Consent/"+e.id)))
			continue
		}
		all = append(all, fmt.Sprintf(`{"fullUrl":"Consent/%s","resource":%s,"request":{"method":%q,"url":"Consent/%s"},"response":{"status":"200"}}`, e.id, e.body, e.method, e.id))
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("_offset"))
	to := len(all)
	if f.pageSize > 0 {
		to = min(to, from+f.pageSize)
	}
	from = min(from, to)
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"history"`)
	if to < len(all) {
		q := url.Values{"_since": {r.URL.Query().Get("_since")}, "_offset": {strconv.Itoa(to)}}
		fmt.Fprintf(&b, `,"link":[{"relation":"next","url":"https://fhir.example%s?%s"}]`, cmpOr(f.nextPath, "/fhir/R4/Consent/_history"), q.Encode())
	}
	b.WriteString(`,"entry":[` + strings.Join(all[from:to], ",") + `]}`)
	f.answer(w, http.StatusOK, b.String())
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// newHistorySetup is a sync-mode proxy in front of f; the test runs the
// rounds (syncRound).
func newHistorySetup(t *testing.T, f *historyFHIR) (*upstreamSetup, *sourcedConsents) {
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
	cancel() // the test runs the rounds itself; the loop stops at once
	if err := srv.UseConsentSources(ctx, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	return &upstreamSetup{harness: hs, fhir: f.fakeFHIR, store: store, server: srv}, srv.consents.(*sourcedConsents)
}

// mirroredIDs returns the ids the stored mirror (bbolt) holds.
func mirroredIDs(t *testing.T, sc *sourcedConsents) []string {
	t.Helper()
	entries, _, err := sc.persist.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestSyncNoticesDeletedPermitQA30G: a permit deleted at the upstream stops
// disclosing after the next round, incremental ones included, and leaves the
// stored mirror (a restart would otherwise load it again). The incremental
// round asked only Consent?_lastUpdated=gt..., which never lists a deleted
// consent: the permit kept disclosing until the next full round, up to ten
// sync intervals (QA round 30, area G).
func TestSyncNoticesDeletedPermitQA30G(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	f.pageSize = 1
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	f.put("u2", upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("consented: %d, want 200", code)
	}
	f.del("u1", "")
	f.put("u2", upstreamConsent("u2", "2", "2026-01-01T00:00:00Z", "Organization/org-b")) // the deletion on the history's second page
	if err := sc.syncRound(bg, &since, &round); err != nil {                              // incremental
		t.Fatal(err)
	}
	if f.histories < 2 {
		t.Fatalf("the round read %d history pages, want 2", f.histories)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the upstream deleted the permit and a round ran: %d, want 404", code)
	}
	if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u2" {
		t.Errorf("the stored mirror holds %v, want [u2]", ids)
	}
	e, err := sc.mirror.get("Patient/p1")
	var held []string
	for _, n := range e.consents {
		held = append(held, n.ID)
	}
	if err != nil || strings.Join(held, ",") != "upstream:u2" {
		t.Errorf("the mirror holds %v, %v; want upstream:u2 alone", held, err)
	}
}

// TestSyncKeepsRecreatedConsentQA30G: a consent deleted and created again
// under its id since the previous round stays (the search lists it; the
// history's DELETE is older).
func TestSyncKeepsRecreatedConsentQA30G(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	f.del("u1", "")
	f.put("u1", upstreamConsent("u1", "3", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("a permit deleted and created again: %d, want 200", code)
	}
	if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u1" {
		t.Errorf("the stored mirror holds %v, want [u1]", ids)
	}
}

// TestSyncWithoutSureHistoryReadsAllQA30G: an upstream whose Consent
// history cannot say for sure which consents were deleted (no type history,
// an OperationOutcome, a deletion it does not name, a next link elsewhere)
// makes the round a full one, which drops the deleted permit.
func TestSyncWithoutSureHistoryReadsAllQA30G(t *testing.T) {
	t.Parallel()
	outcome := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported"}]}`
	for _, tc := range []struct {
		name     string
		status   int
		body     string
		url      string // the deletion's request.url
		nextPath string
	}{
		{name: "404", status: http.StatusNotFound, body: outcome},
		{name: "405", status: http.StatusMethodNotAllowed, body: outcome},
		{name: "501", status: http.StatusNotImplemented, body: outcome},
		{name: "an OperationOutcome", status: http.StatusOK, body: outcome},
		{name: "a searchset", status: http.StatusOK, body: `{"resourceType":"Bundle","type":"searchset","entry":[]}`},
		{name: "a conditional delete", url: "Consent?identifier=x"},
		{name: "another type", url: "Patient/u1"},
		{name: "a next link off the history", nextPath: "/fhir/R4/Consent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newHistoryFHIR()
			u, sc := newHistorySetup(t, f)
			f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
			f.put("u2", upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
			var since time.Time
			round := 0
			bg := context.Background()
			if err := sc.syncRound(bg, &since, &round); err != nil {
				t.Fatal(err)
			}
			f.historyStatus, f.historyBody, f.nextPath = tc.status, tc.body, tc.nextPath
			if tc.nextPath != "" {
				f.pageSize = 1
				f.put("u2", upstreamConsent("u2", "2", "2026-01-01T00:00:00Z", "Organization/org-b"))
			}
			f.del("u1", tc.url)
			if err := sc.syncRound(bg, &since, &round); err != nil {
				t.Fatal(err)
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("after the upstream deleted the permit and a round ran: %d, want 404", code)
			}
			if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u2" {
				t.Errorf("the stored mirror holds %v, want [u2]", ids)
			}
		})
	}
}

// TestSyncKeepsConsentOfStaleDeletionQA30G: a history that lists a
// deletion older than the consent's re-creation (a server that ignores
// _since lists every write) drops nothing the upstream still holds. Here
// the consent is u3, which denies org-a treatment: dropped, the consented
// caller of org-a would read what u3 denies.
func TestSyncKeepsConsentOfStaleDeletionQA30G(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	deny := func(version string) string {
		c := upstreamConsent("u3", version, "2026-01-01T00:00:00Z", "Organization/org-a")
		return strings.Replace(c, `"provision":[{"type":"permit",`, `"provision":[{"type":"deny",`, 1)
	}
	f.put("u3", deny("1"))
	f.del("u3", "")
	f.put("u3", deny("2"))
	f.mu.Lock()
	f.tick = f.tick.Add(time.Minute) // u3's re-creation lies before the next round's since
	f.mu.Unlock()
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("u3 in force beside u1: %d, want 404 (u3 denies org-a)", code)
	}
	f.mu.Lock()
	f.ignoreSince = true
	f.mu.Unlock()
	f.put("u1", upstreamConsent("u1", "2", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after a round whose history listed u3's old deletion: %d, want 404", code)
	}
	if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u1,u3" {
		t.Errorf("the stored mirror holds %v, want [u1 u3]", ids)
	}
}

// TestSyncUnsureOfDeletionReadsAllQA30G: when the upstream cannot be asked
// whether a consent its history lists as deleted is gone (an error), the
// round is a full one, which drops the deleted permit.
func TestSyncUnsureOfDeletionReadsAllQA30G(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{name: "an error", status: http.StatusInternalServerError},
		{name: "200 with an OperationOutcome", status: http.StatusOK},
		{name: "200 with another consent", status: http.StatusOK, body: upstreamConsent("u9", "1", "2026-01-01T00:00:00Z", "Organization/org-a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testSyncUnsureOfDeletion(t, tc.status, tc.body)
		})
	}
}

func testSyncUnsureOfDeletion(t *testing.T, status int, body string) {
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	f.del("u1", "")
	f.mu.Lock()
	f.readStatus, f.readBody = status, body
	f.mu.Unlock()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the upstream deleted the permit and a round ran: %d, want 404", code)
	}
	if ids := mirroredIDs(t, sc); len(ids) != 0 {
		t.Errorf("the stored mirror holds %v, want none", ids)
	}
}

// TestSyncFailingRoundsStopServingQA30G: when sync rounds keep failing (the
// Consent search answers an error while the records can still be read),
// the mirror serves the consents it holds for maxFailedSyncRounds-1 failed
// rounds only; then responses needing consents are withheld, and /readyz
// says so, until a round succeeds. The mirror kept serving for as long as
// the rounds failed: a permit the patient revoked or deleted at the EHR
// meanwhile disclosed all that time (QA round 30, area G).
func TestSyncFailingRoundsStopServingQA30G(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.searchStatus = http.StatusInternalServerError
	f.mu.Unlock()
	for i := 1; i <= maxFailedSyncRounds; i++ {
		if err := sc.syncRound(bg, &since, &round); err == nil {
			t.Fatalf("round %d succeeded against a failing search", i)
		}
		code := u.read(tokConsented)
		switch {
		case i < maxFailedSyncRounds && code != http.StatusOK:
			t.Errorf("after %d failed rounds: %d, want 200 (the mirror still serves)", i, code)
		case i == maxFailedSyncRounds && (code == http.StatusOK || code < 500):
			t.Errorf("after %d failed rounds: %d, want the response withheld (5xx)", i, code)
		}
	}
	if err := sc.mirror.readyErr(); err == nil {
		t.Error("readyz: the lapsed mirror reports ready")
	}
	f.mu.Lock()
	f.searchStatus = 0
	f.mu.Unlock()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("after a round succeeded again: %d, want 200", code)
	}
}

// TestSyncOlderVersionDeniesSurviveARestartQA30G: an older version of a
// consent that a round's answer listed beside the current one denies beside
// it (consent.OneEach); its denies held only in memory, so a proxy
// restarted on the stored mirror, whose first round is incremental and
// lists neither version again, served without them until the next full
// round, and org-a read what the older version's opt-out withheld (QA round
// 30, area F's finding, TestSyncDenyOnlyReadingsSurviveARestartQA30F).
// Later, a new version of the consent replaces them, stored ones included.
func TestSyncOlderVersionDeniesSurviveARestartQA30G(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "2", "2026-01-01T00:00:00Z", "Organization/org-a"))
	f.older = []string{`{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2025-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`}
	f.mu.Lock()
	f.tick = f.tick.Add(time.Minute) // the rounds' overlap lists nothing again
	f.mu.Unlock()
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	denyOnly := func(sc *sourcedConsents) bool {
		e, err := sc.mirror.get("Patient/p1")
		return err == nil && slices.ContainsFunc(e.consents, func(n consent.Normalized) bool { return n.DenyOnly })
	}
	if !denyOnly(sc) || u.read(tokConsented) != http.StatusNotFound {
		t.Fatal("before the restart: the older version's opt-out does not deny")
	}
	restart := func() *sourcedConsents {
		srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
			Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
		if err != nil {
			t.Fatal(err)
		}
		stopped, cancel := context.WithCancel(bg)
		cancel()
		if err := srv.UseConsentSources(stopped, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
			t.Fatal(err)
		}
		return srv.consents.(*sourcedConsents)
	}
	r := restart()
	since, round = r.resume(bg)
	if err := r.syncRound(bg, &since, &round); err != nil { // incremental: nothing changed
		t.Fatal(err)
	}
	if !denyOnly(r) {
		t.Error("after a restart and an incremental round, the older version's opt-out is gone")
	}
	f.put("u1", upstreamConsent("u1", "3", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if err := r.syncRound(bg, &since, &round); err != nil { // incremental: v3 alone
		t.Fatal(err)
	}
	if denyOnly(r) {
		t.Error("a new version left the older one's opt-out")
	}
	if ids := mirroredIDs(t, r); strings.Join(ids, ",") != "u1" {
		t.Errorf("the stored mirror holds %v, want [u1]", ids)
	}
	r = restart()
	since, round = r.resume(bg)
	if err := r.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if denyOnly(r) {
		t.Error("after a second restart, the replaced version's opt-out is back")
	}
}

// TestSyncRelistedConsentKeepsOlderDeniesQA30G: an incremental round that
// lists a consent again unchanged (its lastUpdated within the second the
// rounds overlap by) keeps the denies of the older version an earlier
// answer listed beside it. Applying it again dropped them, in memory and in
// the stored mirror, until the next full round.
func TestSyncRelistedConsentKeepsOlderDeniesQA30G(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	f.put("u1", upstreamConsent("u1", "2", "2026-01-01T00:00:00Z", "Organization/org-a"))
	f.older = []string{`{"resourceType":"Consent","id":"u1","meta":{"versionId":"1","lastUpdated":"2025-01-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`}
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("the older version's opt-out beside u1: %d, want 404", code)
	}
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental: u1 v2 again
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after an incremental round listed u1 again unchanged: %d, want 404", code)
	}
	if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u1,u1/_history/0" {
		t.Errorf("the stored mirror holds %v, want [u1 u1/_history/0]", ids)
	}
	// Listed again with its older version (a server whose incremental
	// answer holds both): applied again, not stored twice.
	f.mu.Lock()
	f.olderAlways = true
	f.older = append(f.older, f.older[0]) // listed twice: u1/_history/1 also
	f.mu.Unlock()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.older = f.older[:1]
	f.mu.Unlock()
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after rounds listing u1 with its older version: %d, want 404", code)
	}
	if ids := mirroredIDs(t, sc); strings.Join(ids, ",") != "u1,u1/_history/0" {
		t.Errorf("after rounds listing u1 with its older version, the stored mirror holds %v, want [u1 u1/_history/0]", ids)
	}
}
