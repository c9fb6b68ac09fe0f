package proxy

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// fakeFHIR is an upstream that knows Patient/p1, its SUD Condition/sud1,
// Organization/org-a (with an NPI) and whatever consents a test gives it.
type fakeFHIR struct {
	mu       sync.Mutex
	consents []string // Consent resources returned by every Consent search
	status   int      // answer to Consent searches; 0 = 200
	pageSize int      // entries per page; 0 = all on one page
	nextRel  string   // the next link's relation; "" = "next"
	searches atomic.Int64
	queries  []url.Values
}

func (f *fakeFHIR) set(status int, consents ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.consents = status, consents
}

func (f *fakeFHIR) handler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/fhir/R4/Patient/p1":
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p1"}`)(w, r)
	case "/fhir/R4/Condition/sud1":
		fhirJSONHandler(http.StatusOK, sudCondition)(w, r)
	case "/fhir/R4/Condition/htn1":
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Condition","id":"htn1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]}}`)(w, r)
	case "/fhir/R4/Organization/org-a":
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"org-a","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`)(w, r)
	case "/fhir/R4/Patient":
		entries := map[string]string{
			"urn:mrn|123": `[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]},"search":{"mode":"match"}}]`,
			"urn:mrn|dup": `[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"dup"}]}},{"resource":{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:mrn","value":"dup"}]}}]`,
			// a server that read the unescaped ',' as "123 or 999" answers p1,
			// which does not carry the identifier asked for
			"urn:mrn|123\\,999": `[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]}}]`,
			"urn:mrn|123,999":   `[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]}}]`,
			// a server that ignores the system answers a Patient of another one
			"urn:mrn|777": `[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:other","value":"777"}]}}]`,
		}[r.URL.Query().Get("identifier")]
		if entries == "" {
			entries = "[]"
		}
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":`+entries+`}`)(w, r)
	case "/fhir/R4/Consent/_history":
		// The type history a sync's incremental round reads for the
		// consents deleted since: none here.
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"history","entry":[]}`)(w, r)
	case "/fhir/R4/Consent":
		if ids := r.URL.Query().Get("_id"); ids != "" {
			// A sync round asking which mirrored consents are still
			// there: all (none was removed without a history entry).
			var entries []string
			for _, id := range strings.Split(ids, ",") {
				entries = append(entries, `{"resource":{"resourceType":"Consent","id":"`+id+`"},"search":{"mode":"match"}}`)
			}
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
			return
		}
		f.searches.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.queries = append(f.queries, r.URL.Query())
		if f.status != 0 && f.status != http.StatusOK {
			fhirJSONHandler(f.status, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusOK, f.page(r.URL.Query().Get("_offset")))(w, r)
	default:
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}
}

// page renders one searchset page from offset, with a next link (on
// another host, as a real server behind a load balancer may write it) when
// more follow.
func (f *fakeFHIR) page(offset string) string {
	from := 0
	fmt.Sscan(offset, &from)
	to := len(f.consents)
	if f.pageSize > 0 {
		to = min(to, from+f.pageSize)
	}
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset"`)
	if to < len(f.consents) {
		fmt.Fprintf(&b, `,"link":[{"relation":%q,"url":`, cmp.Or(f.nextRel, "next"))
		fmt.Fprintf(&b, `"https://fhir.example/fhir/R4/Consent?patient=Patient%%2Fp1&_offset=%d"}]`, to)
	}
	b.WriteString(`,"entry":[`)
	for i, c := range f.consents[from:to] {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"resource":` + c + `,"search":{"mode":"match"}}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// upstreamConsent returns apiConsent as the upstream holds it: id, meta,
// and ORG as the permitted actor.
func upstreamConsent(id, version, updated, org string) string {
	s := strings.Replace(apiConsent, "ORG", org, 1)
	return strings.Replace(s, `"resourceType":"Consent",`,
		`"resourceType":"Consent","id":"`+id+`","meta":{"versionId":"`+version+`","lastUpdated":"`+updated+`"},`, 1)
}

// upstreamSetup is a proxy with a real (empty) local store in front of a
// fakeFHIR, with the consent sources cfg.
type upstreamSetup struct {
	*harness
	fhir   *fakeFHIR
	store  *consent.Store
	server *Server
}

func newUpstreamSetup(t *testing.T, cfg ConsentSources) *upstreamSetup {
	t.Helper()
	store := openConsentStore(t)
	f := &fakeFHIR{}
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(f.handler))
	t.Cleanup(hs.upstream.Close)
	u, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: fakeAuth{}, Consents: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if cfg.Upstream == UpstreamSync {
		cancel() // tests run the syncs themselves (syncOnce); the loop stops at once
	}
	if err := srv.UseConsentSources(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	return &upstreamSetup{harness: hs, fhir: f, store: store, server: srv}
}

// read reads the SUD condition as caller and returns the status.
// restarted is a second proxy on u's bbolt file and upstream, as after a
// restart: its upstream consents, set up with cfg but not started (no
// rounds run until the test runs them; resume has not been called).
func (u *upstreamSetup) restarted(t *testing.T, cfg ConsentSources) *sourcedConsents {
	t.Helper()
	srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.UseConsentSources(stopped, cfg); err != nil {
		t.Fatal(err)
	}
	return srv.consents.(*sourcedConsents)
}

func (u *upstreamSetup) read(caller string) int {
	u.t.Helper()
	resp, _ := u.get("/fhir/Condition/sud1", caller)
	return resp.StatusCode
}

// TestUpstreamConsentOnDemand checks that a consent held only by the
// upstream decides, that the patient's consents are read once per TTL, and
// that the query asks for the patient's active and inactive consents.
func TestUpstreamConsentOnDemand(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("without any consent: %d, want 404 (withheld)", code)
	}
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("within the TTL of the empty answer: %d, want 404", code)
	}
	// A second proxy over the same upstream, as after the TTL.
	u2 := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	u2.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	for range 3 {
		if code := u2.read(tokConsented); code != http.StatusOK {
			t.Errorf("permitted by the upstream consent: %d, want 200", code)
		}
	}
	if code := u2.read(tokOther); code != http.StatusNotFound {
		t.Errorf("another org: %d, want 404", code)
	}
	if n := u2.fhir.searches.Load(); n != 1 {
		t.Errorf("%d Consent searches for 4 reads of one patient, want 1 (cached)", n)
	}
	q := u2.fhir.queries[0]
	if q.Get("patient") != "Patient/p1" || q.Has("status") || q.Get("_count") != "100" {
		t.Errorf("Consent search query %v", q)
	}
}

// TestUpstreamConsentTTL checks that an upstream change counts once the
// cached answer expires.
func TestUpstreamConsentTTL(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	now := time.Now()
	sc := u.server.consents.(*sourcedConsents)
	sc.onDemand.now = func() time.Time { return now }
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted upstream: %d", code)
	}
	u.fhir.set(200, strings.Replace(upstreamConsent("u1", "2", "2026-02-01T00:00:00Z", "Organization/org-a"), `"status":"active"`, `"status":"inactive"`, 1))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("revoked upstream, within the TTL: %d, want 200 (cached)", code)
	}
	now = now.Add(time.Hour)
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("revoked upstream, after the TTL: %d, want 404", code)
	}
}

// TestUpstreamConsentFailsClosed checks that a response needing consents
// is withheld when the upstream cannot list them.
func TestUpstreamConsentFailsClosed(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	u.fhir.set(http.StatusInternalServerError)
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode < 500 || !strings.Contains(body, "OperationOutcome") || strings.Contains(body, "F11.20") {
		t.Errorf("upstream Consent search failing: %d %s", resp.StatusCode, body)
	}
	// Failures are not cached: the next request tries again.
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("after the upstream recovered: %d, want 200", code)
	}
}

// TestUpstreamConsentInvalid checks that an active upstream consent that
// fails validation denies (it could be an opt-out), and that one not in
// force is ignored.
func TestUpstreamConsentInvalid(t *testing.T) {
	t.Parallel()
	good := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	bad := strings.Replace(upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"), `"actor"`, `"actors"`, 1)
	for _, tt := range []struct {
		name, bad string
		want      int
	}{
		{"active unreadable consent denies", bad, http.StatusNotFound},
		{"inactive unreadable consent is ignored", strings.Replace(bad, `"status":"active"`, `"status":"inactive"`, 1), http.StatusOK},
		{"another patient's consent is ignored", strings.Replace(strings.Replace(good, "u1", "u3", 1), "Patient/p1", "Patient/p2", 1), http.StatusOK},
		{"another resource type is ignored", `{"resourceType":"OperationOutcome","issue":[]}`, http.StatusOK},
		{"a consent without resourceType denies", strings.Replace(bad, `"resourceType":"Consent",`, "", 1), http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand})
			u.fhir.set(200, good, tt.bad)
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("read %d, want %d", code, tt.want)
			}
		})
	}
}

// TestUpstreamConsentPaging checks that every page is read (following next
// links by their query, against the configured upstream) and that too
// many consents fail closed.
func TestUpstreamConsentPaging(t *testing.T) {
	t.Parallel()
	var cs []string
	for i := range 5 {
		cs = append(cs, upstreamConsent(fmt.Sprintf("u%d", i), "1", "2026-01-01T00:00:00Z", fmt.Sprintf("Organization/o%d", i)))
	}
	// The last page holds the opt-out: missing it would disclose.
	optOut := strings.Replace(upstreamConsent("u9", "1", "2026-01-01T00:00:00Z", "Organization/org-a"), `"type":"permit"`, `"type":"deny"`, 1)
	cs = append([]string{upstreamConsent("u8", "1", "2026-01-01T00:00:00Z", "Organization/org-a")}, append(cs, optOut)...)
	// RFC 8288 relation types compare in any case: a server writing
	// "Next" still has a next page.
	for _, rel := range []string{"", "Next", "self next"} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand})
		u.fhir.pageSize = 2
		u.fhir.nextRel = rel
		u.fhir.set(200, cs...)
		if code := u.read(tokConsented); code != http.StatusNotFound {
			t.Errorf("relation %q: opt-out on the last page: %d, want 404", rel, code)
		}
		if n := u.fhir.searches.Load(); n != 4 {
			t.Errorf("relation %q: %d pages read, want 4", rel, n)
		}
	}
	few := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, MaxConsents: 3})
	few.fhir.set(200, cs...)
	if resp, body := few.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode < 500 || strings.Contains(body, "F11.20") {
		t.Errorf("more consents than the cap: %d %s", resp.StatusCode, body)
	}
}

// TestUpstreamConsentConflict checks the merge rule end to end: a local
// revocation wins over the upstream's active copy of the same consent.
func TestUpstreamConsentConflict(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand})
	u.fhir.set(200, upstreamConsent("c1", "5", "2099-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("upstream copy alone: %d", code)
	}
	local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
	if _, err := u.store.Put(context.Background(), []byte(local)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.store.Revoke(context.Background(), "c1", ""); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("local revocation, newer upstream active copy: %d, want 404", code)
	}
}

// TestUpstreamConsentSync checks the mirror: nothing is disclosed before
// the first sync, then the upstream's consents decide, and a full sync
// drops consents deleted upstream.
func TestUpstreamConsentSync(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	sc := u.server.consents.(*sourcedConsents)
	if code := u.read(tokConsented); code < 500 {
		t.Errorf("before the first sync: %d, want a withheld response", code)
	}
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	ctx := context.Background()
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("after a sync: %d, want 200", code)
	}
	u.fhir.set(200)
	if err := sc.syncOnce(ctx, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("an incremental sync with no change: %d, want 200", code)
	}
	last := u.fhir.queries[len(u.fhir.queries)-1]
	if !strings.HasPrefix(last.Get("_lastUpdated"), "gt") || last.Get("patient") != "" {
		t.Errorf("incremental sync query %v", last)
	}
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after a full sync without the consent: %d, want 404", code)
	}
}

// TestUpstreamConsentSyncNotReady checks that before the first sync has
// finished, responses that need consents are withheld.
func TestUpstreamConsentSyncNotReady(t *testing.T) {
	t.Parallel()
	m := &consentMirror{}
	if _, err := m.get("Patient/p1"); err == nil {
		t.Error("an unsynchronised mirror answered")
	}
	m.apply(nil, true)
	if e, err := m.get("Patient/p1"); err != nil || len(e.consents) != 0 {
		t.Errorf("after an empty sync: %v %v", e, err)
	}
}

// npiConsent permits the organisation with NPI 1234567893, named by
// identifier only.
var npiConsent = strings.Replace(apiConsent, `"reference":{"reference":"ORG"}`,
	`"reference":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}}`, 1)

// TestActorResolution checks that an actor named by identifier matches a
// caller known by reference once the directory or the upstream links the
// two, and not without.
func TestActorResolution(t *testing.T) {
	t.Parallel()
	dir, err := consent.ParseDirectory([]byte(`entries: [{reference: Organization/org-a, identifiers: ["http://hl7.org/fhir/sid/us-npi|1234567893"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  ConsentSources
		want int
	}{
		{"no resolution", ConsentSources{Upstream: UpstreamOnDemand}, http.StatusNotFound},
		{"directory", ConsentSources{Directory: dir}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, tt.cfg)
			if _, err := u.store.Put(context.Background(), []byte(npiConsent)); err != nil {
				t.Fatal(err)
			}
			if code := u.read(tokConsented); code != tt.want {
				t.Errorf("read %d, want %d", code, tt.want)
			}
		})
	}
	// Upstream resolution turns a reference into its identifiers: a consent
	// naming Organization/org-a matches a caller that presents only the NPI.
	u := newUpstreamSetup(t, ConsentSources{ResolveActors: true})
	sc := u.server.consents.(*sourcedConsents)
	local := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
	if _, err := u.store.Put(context.Background(), []byte(local)); err != nil {
		t.Fatal(err)
	}
	ns, _, err := sc.Normalized(context.Background(), "Patient/p1")
	if err != nil {
		t.Fatal(err)
	}
	actors := ns[0].Rules[1].Conditions[1].Actors
	if fmt.Sprint(actors) != "[Organization/org-a http://hl7.org/fhir/sid/us-npi|1234567893]" {
		t.Errorf("actors resolved through the upstream: %v", actors)
	}
	forms, known, err := sc.resolver.ActorForms(context.Background(), "Organization/nope")
	if err != nil || known || forms != nil {
		t.Errorf("unknown organisation: %v %v %v", forms, known, err)
	}
}

// TestConsentAPIActorsResolvable checks that, with resolution configured,
// the consent API refuses a consent naming an actor nobody knows, and
// stores nothing.
func TestConsentAPIActorsResolvable(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{ResolveActors: true})
	a := &consentAPI{harness: u.harness, store: u.store}
	code, _, body := a.call(http.MethodPost, "/admin/Consent", strings.Replace(apiConsent, "ORG", "Organization/nope", 1))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Organization/nope") || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("unknown actor: %d %s", code, body)
	}
	if recs, _ := u.store.ForPatient(context.Background(), "Patient/p1"); len(recs) != 0 {
		t.Errorf("%d consents stored after a refusal", len(recs))
	}
	if code, _, body := a.call(http.MethodPost, "/admin/Consent", strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)); code != http.StatusCreated {
		t.Errorf("known actor: %d %s", code, body)
	}
	if code, _, body := a.call(http.MethodPost, "/admin/Consent", npiConsent); code != http.StatusCreated {
		t.Errorf("actor by identifier: %d %s", code, body)
	}
}

// r5APIConsent is an R5 consent of Patient/p1 permitting org-a for TREAT.
const r5APIConsent = `{"resourceType":"Consent","status":"active",
  "subject":{"reference":"Patient/p1"},"date":"2026-02-16","decision":"deny",
  "regulatoryBasis":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}],
  "provision":[{
    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}`

// TestConsentAPIR5 checks that the consent API accepts R5 (detected, or
// declared with fhirVersion=5.0), keeps it as sent, and that it decides;
// and that a declared version the body does not match is refused.
func TestConsentAPIR5(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	for _, ct := range []string{"application/fhir+json", "application/fhir+json; fhirVersion=5.0"} {
		code, _, body := a.call(http.MethodPost, "/admin/Consent", r5APIConsent, "Content-Type", ct)
		if code != http.StatusCreated || !strings.Contains(body, `"decision":"deny"`) || !strings.Contains(body, `"subject"`) {
			t.Errorf("%s: %d %s", ct, code, body)
		}
	}
	if resp, _ := a.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("read permitted by the R5 consent: %d", resp.StatusCode)
	}
	for _, tt := range []struct {
		name, body, ct string
		want           int
	}{
		{"R4 body declared R5", strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), "application/fhir+json; fhirVersion=5.0", 400},
		{"R5 body declared R4", r5APIConsent, "application/fhir+json; fhirVersion=4.0", 400},
		{"unsupported version", r5APIConsent, "application/fhir+json; fhirVersion=3.0", 415},
		{"R5 with an expression", strings.Replace(r5APIConsent, `"actor"`, `"expression":{"language":"text/fhirpath","expression":"true"},"actor"`, 1), "application/fhir+json", 400},
	} {
		code, _, body := a.call(http.MethodPost, "/admin/Consent", tt.body, "Content-Type", tt.ct)
		if code != tt.want || !strings.Contains(body, "OperationOutcome") {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.want)
		}
	}
	ghost := strings.Replace(r5APIConsent, `"subject":{"reference":"Patient/p1"}`, `"subject":{"reference":"Patient/ghost"}`, 1)
	if code, _, body := a.call(http.MethodPost, "/admin/Consent", ghost); code != http.StatusUnprocessableEntity || !strings.Contains(body, "Consent.subject.reference") {
		t.Errorf("R5 consent of a patient the upstream does not know: %d %s", code, body)
	}
	if recs, _ := a.store.ForPatient(context.Background(), "Patient/p1"); len(recs) != 2 {
		t.Errorf("%d consents stored, want the 2 accepted", len(recs))
	}
}

// TestConsentSourcesValidate checks the configuration checks.
func TestConsentSourcesValidate(t *testing.T) {
	t.Parallel()
	if err := (ConsentSources{Upstream: "always"}).Validate(); err == nil {
		t.Error("an unknown mode accepted")
	}
	if err := (ConsentSources{TTL: -1}).Validate(); err == nil {
		t.Error("a negative TTL accepted")
	}
	if err := (ConsentSources{Upstream: UpstreamSync}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestTTLCache checks eviction by size and by age.
func TestTTLCache(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := newTTLCache[int](2, time.Minute)
	c.now = func() time.Time { return now }
	c.add("a", 1)
	c.add("b", 2)
	c.get("a")
	c.add("c", 3) // evicts b, the least recently used
	if _, ok := c.get("b"); ok || c.len() != 2 {
		t.Errorf("size bound: b kept, len %d", c.len())
	}
	now = now.Add(time.Minute)
	if _, ok := c.get("a"); ok {
		t.Error("an expired entry was served")
	}
}

// TestFlightsShareOneRead checks that concurrent misses for one patient
// wait for the read in flight instead of starting their own.
func TestFlightsShareOneRead(t *testing.T) {
	t.Parallel()
	var f flights
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int64
	fn := func(context.Context) (upstreamEntry, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return upstreamEntry{gen: 7}, nil
	}
	results := make(chan uint64, 3)
	go func() {
		e, _ := f.do(context.Background(), "Patient/p1", fn)
		results <- e.gen
	}()
	<-started
	for range 2 {
		go func() {
			e, _ := f.do(context.Background(), "Patient/p1", fn)
			results <- e.gen
		}()
	}
	waitFor(t, &f, "Patient/p1", 2)
	close(release)
	for range 3 {
		if g := <-results; g != 7 {
			t.Errorf("a waiter got generation %d", g)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d reads for 3 concurrent callers, want 1", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	block := make(chan struct{})
	defer close(block)
	go f.do(context.Background(), "Patient/p2", func(context.Context) (upstreamEntry, error) { <-block; return upstreamEntry{}, nil })
	waitFor(t, &f, "Patient/p2", 0)
	if _, err := f.do(ctx, "Patient/p2", nil); err == nil {
		t.Error("a waiter with a cancelled context kept waiting")
	}
}

// waitFor blocks until key has a flight with at least n waiters.
func waitFor(t *testing.T, f *flights, key string, n int) {
	t.Helper()
	for {
		f.mu.Lock()
		fl, ok := f.pending[key]
		ready := ok && fl.waiters >= n
		f.mu.Unlock()
		if ready {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConsentAPIPatientByIdentifier checks that, with a patient identifier
// system configured, a consent naming its patient by MRN is stored with the
// one matching patient's reference, and decides for that patient; and that
// an identifier matching no patient or several is refused.
func TestConsentAPIPatientByIdentifier(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{PatientIdentifierSystem: "urn:mrn"})
	a := &consentAPI{harness: u.harness, store: u.store}
	byMRN := func(mrn string) string {
		return strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1),
			`"patient":{"reference":"Patient/p1"}`, `"patient":{"identifier":{"system":"urn:mrn","value":"`+mrn+`"}}`, 1)
	}
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"no such MRN", byMRN("999"), http.StatusUnprocessableEntity},
		{"ambiguous MRN", byMRN("dup"), http.StatusUnprocessableEntity},
		// QA round 19: the consent API's lookup took the server's answer on
		// trust and sent the value unescaped, so a consent could be stored
		// for a patient that does not carry the identifier
		{"MRN with a comma", byMRN("123,999"), http.StatusUnprocessableEntity},
		{"match of another system", byMRN("777"), http.StatusUnprocessableEntity},
		{"another system", strings.Replace(byMRN("123"), `"urn:mrn"`, `"urn:other"`, 1), http.StatusBadRequest},
	} {
		if code, _, body := a.call(http.MethodPost, "/admin/Consent", tt.body); code != tt.want || !strings.Contains(body, "OperationOutcome") {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.want)
		}
	}
	if recs, _ := u.store.ForPatient(context.Background(), "Patient/p1"); len(recs) != 0 {
		t.Fatalf("%d consents stored after refusals", len(recs))
	}
	code, _, body := a.call(http.MethodPost, "/admin/Consent", byMRN("123"))
	if code != http.StatusCreated || !strings.Contains(body, `"reference":"Patient/p1"`) || !strings.Contains(body, `"value":"123"`) {
		t.Fatalf("by MRN: %d %s", code, body)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Errorf("read under the consent stored by MRN: %d, want 200", code)
	}
}

// TestUpstreamConsentSyncPersisted checks that sync keeps its mirror in the
// bbolt file: a proxy started on the same file loads it, serves nothing
// until its first round succeeds, and that first round reads only what
// changed since the stored one.
func TestUpstreamConsentSyncPersisted(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	sc := u.server.consents.(*sourcedConsents)
	if sc.persist == nil {
		t.Fatal("sync over a consent.Store does not persist")
	}
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	ctx := context.Background()
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	entries, at, err := u.store.Mirror().Load(ctx)
	if err != nil || len(entries) != 1 || entries[0].ID != "u1" || entries[0].Patient != "Patient/p1" || at.IsZero() {
		t.Fatalf("stored mirror: %+v at %v, %v", entries, at, err)
	}
	// A second proxy on the same store, as after a restart; its own loop
	// is stopped at once (cancelled context), the test runs its steps.
	srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := srv.UseConsentSources(stopped, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	restarted := srv.consents.(*sourcedConsents)
	since, round := restarted.resume(ctx)
	if !since.Equal(at.Add(-time.Second)) || round != 1 {
		t.Errorf("resume: since %v round %d", since, round)
	}
	if _, err := restarted.mirror.get("Patient/p1"); err == nil {
		t.Error("the loaded mirror served before a round succeeded")
	}
	u.fhir.set(200)
	u.fhir.mu.Lock()
	before := len(u.fhir.queries)
	u.fhir.mu.Unlock()
	if err := restarted.syncOnce(ctx, since, false); err != nil {
		t.Fatal(err)
	}
	e, err := restarted.mirror.get("Patient/p1")
	if err != nil || len(e.consents) != 1 || e.consents[0].ID != "upstream:u1" {
		t.Errorf("after the first round: %+v, %v", e, err)
	}
	if q := u.fhir.queries[len(u.fhir.queries)-1]; len(u.fhir.queries) != before+1 || !strings.HasPrefix(q.Get("_lastUpdated"), "gt") {
		t.Errorf("the first round after the restart was not incremental: %v", q)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
