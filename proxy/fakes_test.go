package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"go.etcd.io/bbolt"
)

// In-process fakes for fast unit tests; the end-to-end suite (test/e2e) uses
// the real stores, tokens and a real FHIR server.

type fakeAuth struct{}

// Verify accepts tokens of the form "org|purpose|scopes".
func (fakeAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	parts := strings.Split(raw, "|")
	if len(parts) != 3 {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	c := authn.Caller{Subject: "u-" + parts[0], Org: parts[0], Scopes: strings.Fields(parts[2])}
	if parts[1] != "" {
		c.Purposes = []string{parts[1]}
	}
	return c, nil
}

type fakeConsents struct{ byPatient map[string][]consent.Record }

func (f *fakeConsents) Put(context.Context, []byte) (consent.Record, error) {
	return consent.Record{}, errors.New("read-only fake")
}

func (f *fakeConsents) Get(context.Context, string) (consent.Record, error) {
	return consent.Record{}, consent.ErrNotFound
}

func (f *fakeConsents) ForPatient(_ context.Context, p string) ([]consent.Record, error) {
	return f.byPatient[p], nil
}

type fakeLedger struct {
	mu      sync.Mutex
	entries []audit.Entry
	fail    bool
}

func (f *fakeLedger) Append(_ context.Context, es ...audit.Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("disk full")
	}
	f.entries = append(f.entries, es...)
	return nil
}

func (f *fakeLedger) Find(context.Context, audit.Query) ([]audit.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.Entry(nil), f.entries...), nil
}

type failingDecider struct{}

func (failingDecider) Decide(context.Context, policy.Input) (policy.Decision, error) {
	return policy.Decision{}, errors.New("boom")
}
func (failingDecider) Revision() string { return "broken" }

// Tokens understood by fakeAuth.
const (
	tokConsented = "Organization/org-a|TREAT|user/*.read"
	tokOther     = "Organization/org-b|TREAT|user/*.read"
	tokAdmin     = "Organization/ops||ds4p/consent-manager ds4p/policy-author ds4p/auditor"
)

// consentFor is a stored Part 2 consent: deny all, permit org-a for TREAT.
func consentFor(patient string) consent.Record {
	raw := `{"resourceType":"Consent","id":"c1","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"` + patient + `"},
	"provision":{"type":"deny","provision":[{"type":"permit",
	"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}}`
	return consent.Record{ID: "c1", Version: 1, Patient: patient, Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

type harness struct {
	t        testing.TB
	upstream *httptest.Server
	proxy    *httptest.Server
	ledger   *fakeLedger
	seen     chan *http.Request
}

type harnessOpt func(*Options, *Deps)

// newHarness runs the proxy in front of an upstream answering with h.
func newHarness(t testing.TB, h http.HandlerFunc, opts ...harnessOpt) *harness {
	t.Helper()
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hs.seen <- r.Clone(context.Background()):
		default:
		}
		h(w, r)
	}))
	t.Cleanup(hs.upstream.Close)
	u, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20}
	d := Deps{
		Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: fakeAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}},
	}
	for _, opt := range opts {
		opt(&o, &d)
	}
	srv, err := New(o, d)
	if err != nil {
		t.Fatal(err)
	}
	ph := srv.Handler()
	hs.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ph.ServeHTTP(w, r)
		// A withheld-only response's ledger entries are written after it
		// (record.go): the tests read the fake ledger as an auditor would,
		// after them.
		srv.Flush()
	}))
	t.Cleanup(hs.proxy.Close)
	return hs
}

func (h *harness) labellerFor() *labels.Labeller { return labels.Default() }

// base is the upstream FHIR base as it appears in upstream bodies.
func (h *harness) base() string { return h.upstream.URL + "/fhir/R4" }

func (h *harness) get(path, token string, hdr ...string) (*http.Response, string) {
	h.t.Helper()
	return h.do(http.MethodGet, path, token, "", "", hdr...)
}

// do sends one request to the proxy: the token as a Bearer token and the
// Content-Type when given, then hdr's name/value pairs; it returns the
// response and its whole body.
func (h *harness) do(method, path, token, contentType, body string, hdr ...string) (*http.Response, string) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, h.proxy.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" { // the client sends req.Host, not a Host header
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func fhirJSONHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// openConsentStore is a real consent store in a bbolt file of the test's
// own, closed when the test ends.
func openConsentStore(t *testing.T) *consent.Store {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := consent.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return store
}
