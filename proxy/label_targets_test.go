package proxy

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// routedUpstream answers GET Type/id from resources (by "Type/id") with
// 200, anything else with a 404 OperationOutcome, and counts the reads of
// each path.
type routedUpstream struct {
	mu        sync.Mutex
	resources map[string]string
	reads     map[string]int
	status    map[string]int // a status to answer instead, by "Type/id"
}

func newRouted(resources map[string]string) *routedUpstream {
	return &routedUpstream{resources: resources, reads: map[string]int{}, status: map[string]int{}}
}

func (u *routedUpstream) handle(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
	if r.Method == http.MethodPut { // stored, answered as Prefer: return=minimal
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.resources[key] = string(b)
		u.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	u.mu.Lock()
	u.reads[key]++
	body, ok := u.resources[key]
	status := u.status[key]
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/fhir+json")
	switch {
	case status != 0:
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"Condition sud1 F11.20"}]}`))
	case ok:
		_, _ = w.Write([]byte(body))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	}
}

func (u *routedUpstream) readsOf(key string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reads[key]
}

// orderFor is an ordinary-coded order whose reason is reason.
func orderFor(id, reason string) string {
	return `{"resourceType":"MedicationRequest","id":"` + id + `","status":"active","intent":"order","subject":{"reference":"Patient/p1"},` +
		`"medicationCodeableConcept":{"text":"as directed"},"reasonReference":[{"reference":"` + reason + `"}]}`
}

// withCache gives the harness a labeller with a label cache, as serve has.
func withCache(o *Options, d *Deps) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 1000})
	if err != nil {
		panic(err)
	}
	d.Labeller = l
}

// An order whose reason is an SUD Condition the proxy never saw is SUD
// information: it is withheld from a caller without consent exactly as
// the Condition is, on the first read, because the Condition is read
// first to label the order.
func TestUnknownReferenceTargetIsFetchedBeforeLabelling(t *testing.T) {
	t.Parallel()
	up := newRouted(map[string]string{
		"MedicationRequest/mr1": orderFor("mr1", "Condition/sud1"),
		"Condition/sud1":        sudCondition,
	})
	h := newHarness(t, up.handle, withCache)
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("MedicationRequest", "mr1")) {
		t.Fatalf("order of an unseen SUD condition, caller without consent: %d %s", resp.StatusCode, body)
	}
	if n := up.readsOf("Condition/sud1"); n != 1 {
		t.Fatalf("Condition/sud1 read %d times, want once", n)
	}
	resp, body = h.get("/fhir/MedicationRequest/mr1", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"SUD"`) {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}
	if n := up.readsOf("Condition/sud1"); n != 1 {
		t.Fatalf("Condition/sud1 read %d times, want once: the cache knows it now", n)
	}
}

// The control for the test above: with unknown_targets ignore the order is
// disclosed (the limit the fetch closes), and nothing is read.
func TestUnknownTargetsIgnore(t *testing.T) {
	t.Parallel()
	up := newRouted(map[string]string{
		"MedicationRequest/mr1": orderFor("mr1", "Condition/sud1"),
		"Condition/sud1":        sudCondition,
	})
	h := newHarness(t, up.handle, withCache, func(o *Options, _ *Deps) { o.UnknownTargets = TargetsIgnore })
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"code":"SUD"`) || up.readsOf("Condition/sud1") != 0 {
		t.Fatalf("ignore: %d %s, Condition/sud1 read %d times", resp.StatusCode, body, up.readsOf("Condition/sud1"))
	}
}

// Ordinary and missing targets are read once, then known for the TTL; a
// write through the proxy makes the written one read again.
func TestOrdinaryTargetsReadOnceAndWritesForget(t *testing.T) {
	t.Parallel()
	flu := `{"resourceType":"Condition","id":"flu","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J10.1"}]}}`
	up := newRouted(map[string]string{
		"MedicationRequest": bundle("http://x/fhir/R4", 2, false, orderFor("a", "Condition/flu"), orderFor("b", "Condition/gone")),
		"Condition/flu":     flu,
		"Patient/p1":        `{"resourceType":"Patient","id":"p1"}`, // the subject the write refers to, read before it
	})
	h := newHarness(t, up.handle, withCache)
	for range 3 {
		resp, body := h.get("/fhir/MedicationRequest?patient=Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || strings.Count(body, `"resourceType":"MedicationRequest"`) != 2 {
			t.Fatalf("search: %d %s", resp.StatusCode, body)
		}
	}
	if a, b := up.readsOf("Condition/flu"), up.readsOf("Condition/gone"); a != 1 || b != 1 {
		t.Fatalf("reads of Condition/flu %d, Condition/gone %d: want one each", a, b)
	}
	// The flu Condition becomes an SUD one through the proxy; the upstream
	// answers the write without a body, so only the write itself tells the
	// proxy that what it knew of Condition/flu may be stale.
	req, _ := http.NewRequest(http.MethodPut, h.proxy.URL+"/fhir/Condition/flu", strings.NewReader(strings.Replace(flu, "J10.1", "F11.20", 1)))
	req.Header.Set("Authorization", "Bearer Organization/org-a|TREAT|user/*.*")
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, body := h.get("/fhir/MedicationRequest?patient=Patient/p1", tokOther)
	if up.readsOf("Condition/flu") != 3 { // the first search, the write's check of the stored version, this search
		t.Errorf("Condition/flu read %d times, want 3", up.readsOf("Condition/flu"))
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"id":"a"`) || !strings.Contains(body, `"id":"b"`) {
		t.Fatalf("after the write: %d %s", resp.StatusCode, body)
	}
}

// A target the upstream cannot read withholds the response (fail closed),
// without the upstream's words.
func TestUnreadableTargetWithholds(t *testing.T) {
	t.Parallel()
	up := newRouted(map[string]string{
		"MedicationRequest/mr1": orderFor("mr1", "Condition/sud1"),
	})
	up.status["Condition/sud1"] = http.StatusInternalServerError
	h := newHarness(t, up.handle, withCache)
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokConsented)
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "mr1") || strings.Contains(body, "F11") || !strings.Contains(body, "could not be labelled") {
		t.Fatalf("unreadable target: %d %s", resp.StatusCode, body)
	}
	// Another server's resource is not read from this upstream.
	up2 := newRouted(map[string]string{
		"MedicationRequest/mr2": orderFor("mr2", "https://other.example/fhir/Condition/sud1"),
		"Condition/sud1":        sudCondition,
	})
	h2 := newHarness(t, up2.handle, withCache)
	if resp, body := h2.get("/fhir/MedicationRequest/mr2", tokOther); resp.StatusCode != http.StatusOK || up2.readsOf("Condition/sud1") != 0 {
		t.Fatalf("other server's target: %d %s, reads %d", resp.StatusCode, body, up2.readsOf("Condition/sud1"))
	}
}

func TestLocalReference(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("http://ehr.example:8080/fhir/R4")
	alias, _ := url.Parse("https://ehr.example.org/fhir/R4/")
	s := &Server{opts: Options{Upstream: u, UpstreamAliases: []*url.URL{alias}}}
	for ref, want := range map[string]bool{
		"https://ehr.example.org/fhir/R4/Condition/1":      true,
		"HTTPS://EHR.EXAMPLE.ORG/fhir/R4/Condition/1":      true,
		"http://ehr.example.org/fhir/R4/Condition/1":       false, // another scheme
		"https://ehr.example.org/fhir/Condition/1":         false,
		"https://ehr.example.org.evil/fhir/R4/Condition/1": false,
		"Condition/1": true,
		"http://ehr.example:8080/fhir/R4/Condition/1":  true,
		"HTTP://EHR.example:8080/fhir/R4/Condition/1":  true,
		"http://ehr.example:8080/FHIR/R4/Condition/1":  false,
		"http://other.example/fhir/R4/Condition/1":     false,
		"http://ehr.example:8080/fhir/R40/Condition/1": false,
		"urn:uuid:1234": false,
	} {
		if got := s.localReference(ref); got != want {
			t.Errorf("%s: %v, want %v", ref, got, want)
		}
	}
}

// A read of a target that answers with something else (a Bundle, another
// resource) withholds the response, as an unreadable target does; it was
// taken as the target missing, and the referrer disclosed.
func TestTargetAnsweredWithAnotherResourceWithholds(t *testing.T) {
	t.Parallel()
	up := newRouted(map[string]string{
		"MedicationRequest/mr1": orderFor("mr1", "Condition/sud1"),
		"Condition/sud1":        `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + sudCondition + `}]}`,
	})
	h := newHarness(t, up.handle, withCache)
	if resp, body := h.get("/fhir/MedicationRequest/mr1", tokConsented); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("target answered with a Bundle: %d %s", resp.StatusCode, body)
	}
}

// A request whose target reads outlast its timeout is withheld (504).
func TestTargetReadsCutShortFailClosed(t *testing.T) {
	t.Parallel()
	var refs []string
	for i := range 40 {
		refs = append(refs, `{"reference":"Condition/c`+strconv.Itoa(i)+`"}`)
	}
	order := `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"reasonReference":[` + strings.Join(refs, ",") + `]}`
	var reads atomic.Int64
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/MedicationRequest/mr1") {
			fhirJSONHandler(200, order)(w, r)
			return
		}
		reads.Add(1)
		time.Sleep(30 * time.Millisecond) // each target read is slow; 40 of them outlast the timeout
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}, withCache, func(o *Options, _ *Deps) { o.UpstreamTimeout = 100 * time.Millisecond })
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusGatewayTimeout || strings.Contains(body, "mr1") {
		t.Fatalf("targets cut short: %d %s", resp.StatusCode, body)
	}
}

// Targets left unread because the request ended are not missing: a worker
// that found the context done returned without an error, and every target
// it had not read counted as missing (and was remembered so).
func TestFetchTargetsAfterTheRequestEndedIsAnError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	u, _ := url.Parse(h.base())
	s, err := New(Options{Upstream: u}, Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: &fakeConsents{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	found, err := s.fetchTargets(ctx, &exchange{}, []labels.Target{{Type: "Condition", ID: "c1", Ref: "Condition/c1"}})
	if err == nil {
		t.Fatalf("fetchTargets after the request ended: %d found, no error", len(found))
	}
}
