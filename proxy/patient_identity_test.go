package proxy

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// identityAuth is fakeAuth, plus tokens "pid:<system|value>": org-a for
// treatment with patient/*.read, its patient claim given as an identifier.
type identityAuth struct{ fakeAuth }

func (a identityAuth) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	if ident, ok := strings.CutPrefix(raw, "pid:"); ok {
		return authn.Caller{Subject: "app", Org: "Organization/org-a", Purposes: []string{"TREAT"},
			Scopes: []string{"patient/*.read"}, PatientIdentifier: ident}, nil
	}
	return a.fakeAuth.Verify(ctx, raw)
}

// identityUpstream answers resources naming their patient in different
// ways, and Patient searches by identifier (urn:mrn|123 is Patient/p1;
// urn:mrn|boom fails), counting them.
type identityUpstream struct{ patientSearches atomic.Int64 }

func withSubject(resource, subject string) string {
	return strings.Replace(resource, `"subject":{"reference":"Patient/p1"}`, `"subject":`+subject, 1)
}

func (u *identityUpstream) handler(w http.ResponseWriter, r *http.Request) {
	mrn := func(v string) string { return `{"identifier":{"system":"urn:mrn","value":"` + v + `"}}` }
	bodies := map[string]string{
		"/fhir/R4/Condition/by-mrn":     withSubject(sudCondition, mrn("123")),
		"/fhir/R4/Condition/by-url":     withSubject(sudCondition, `{"reference":"https://fhir.example.org/r4/Patient/p1"}`),
		"/fhir/R4/Observation/unknown":  withSubject(bpObs, mrn("999")),
		"/fhir/R4/Observation/other":    withSubject(bpObs, `{"identifier":{"system":"urn:other","value":"1"}}`),
		"/fhir/R4/Observation/broken":   withSubject(bpObs, mrn("boom")),
		"/fhir/R4/Observation/of-p2":    withSubject(bpObs, `{"reference":"Patient/p2"}`),
		"/fhir/R4/Observation/of-p1":    bpObs,
		"/fhir/R4/Observation/p1-byMRN": withSubject(bpObs, mrn("123")),
	}
	if b, ok := bodies[r.URL.Path]; ok {
		fhirJSONHandler(http.StatusOK, b)(w, r)
		return
	}
	if r.URL.Path != "/fhir/R4/Patient" {
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		return
	}
	u.patientSearches.Add(1)
	switch r.URL.Query().Get("identifier") {
	case "urn:mrn|123":
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]},"search":{"mode":"match"}}]}`)(w, r)
	case "urn:mrn|boom":
		fhirJSONHandler(http.StatusInternalServerError, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)(w, r)
	default:
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
	}
}

// newIdentitySetup is a proxy with the patient identifier system urn:mrn
// and p1's Part 2 consent (org-a, TREAT) in front of an identityUpstream.
func newIdentitySetup(t *testing.T, logger ...*slog.Logger) (*harness, *identityUpstream) {
	t.Helper()
	up := &identityUpstream{}
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(up.handler))
	t.Cleanup(hs.upstream.Close)
	u, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: identityAuth{},
			Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}}, Logger: firstLogger(logger)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.UseConsentSources(context.Background(), ConsentSources{PatientIdentifierSystem: "urn:mrn", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hs.proxy = httptest.NewServer(srv.Handler())
	t.Cleanup(hs.proxy.Close)
	return hs, up
}

// TestResponsePatientIdentity checks that response data naming its patient
// by an absolute URL or by an identifier of the configured system is decided
// under that patient's consent, that an identifier no patient has is
// withheld (fail closed) and one the upstream cannot resolve withholds the
// response, and that identifier lookups are cached.
func TestResponsePatientIdentity(t *testing.T) {
	t.Parallel()
	h, up := newIdentitySetup(t)
	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"identifier, consented org", "/fhir/Condition/by-mrn", tokConsented, http.StatusOK},
		{"identifier, other org", "/fhir/Condition/by-mrn", tokOther, http.StatusNotFound},
		{"absolute URL, consented org", "/fhir/Condition/by-url", tokConsented, http.StatusOK},
		{"absolute URL, other org", "/fhir/Condition/by-url", tokOther, http.StatusNotFound},
		{"identifier no patient has", "/fhir/Observation/unknown", tokConsented, http.StatusNotFound},
		{"identifier of another system", "/fhir/Observation/other", tokConsented, http.StatusNotFound},
		{"upstream cannot resolve", "/fhir/Observation/broken", tokConsented, http.StatusBadGateway},
		{"identifier again (cached)", "/fhir/Condition/by-mrn", tokConsented, http.StatusOK},
	} {
		resp, body := h.get(tt.path, tt.token)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if tt.want != http.StatusOK && strings.Contains(body, `"valueQuantity"`) {
			t.Errorf("%s: withheld data in the answer: %s", tt.name, body)
		}
	}
	// urn:mrn|123 once (cached after), 999 once, boom once (errors are not cached).
	if n := up.patientSearches.Load(); n != 3 {
		t.Errorf("%d Patient searches, want 3", n)
	}
	entries, _ := h.ledger.Find(context.Background(), audit.Query{})
	var sawUnknown, sawMRN bool
	for _, e := range entries {
		for _, w := range e.Withheld {
			if w.ID == "bp1" && e.Patient == "" {
				sawUnknown = true
			}
		}
		for _, d := range e.Disclosed {
			if d.ID == "sud1" && e.Patient == "Patient/p1" {
				sawMRN = true
			}
		}
	}
	if !sawUnknown || !sawMRN {
		t.Errorf("ledger: withheld unknown-patient entry %v, disclosure to Patient/p1 %v; entries %+v", sawUnknown, sawMRN, entries)
	}
}

// TestTokenPatientIdentifier checks that a token's patient claim given as
// an identifier binds the caller to the matching patient's compartment, and
// that one no single patient has, or of another system, is refused.
func TestTokenPatientIdentifier(t *testing.T) {
	t.Parallel()
	h, up := newIdentitySetup(t)
	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"own data", "/fhir/Observation/of-p1", "pid:urn:mrn|123", http.StatusOK},
		{"own data named by identifier", "/fhir/Observation/p1-byMRN", "pid:urn:mrn|123", http.StatusOK},
		{"own Part 2 data, consented", "/fhir/Condition/by-mrn", "pid:urn:mrn|123", http.StatusOK},
		{"another patient's data", "/fhir/Observation/of-p2", "pid:urn:mrn|123", http.StatusNotFound},
		{"no such patient", "/fhir/Observation/of-p1", "pid:urn:mrn|999", http.StatusUnauthorized},
		{"another system", "/fhir/Observation/of-p1", "pid:urn:other|123", http.StatusUnauthorized},
		{"upstream cannot resolve", "/fhir/Observation/of-p1", "pid:urn:mrn|boom", http.StatusBadGateway},
	} {
		resp, body := h.get(tt.path, tt.token)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if tt.want != http.StatusOK && strings.Contains(body, `"valueQuantity"`) {
			t.Errorf("%s: data in the answer: %s", tt.name, body)
		}
	}
	if n := up.patientSearches.Load(); n != 3 { // 123 (cached after), 999, boom
		t.Errorf("%d Patient searches, want 3", n)
	}
}

func firstLogger(ls []*slog.Logger) *slog.Logger {
	if len(ls) > 0 {
		return ls[0]
	}
	return nil
}

// TestPatientLookupFailureNotLogged: when the upstream cannot be reached,
// the error of the Patient search quotes its URL, which holds the token's
// identifier (an MRN); the log line says the lookup failed without it.
func TestPatientLookupFailureNotLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	h, _ := newIdentitySetup(t, slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))
	h.upstream.Close()
	resp, _ := h.get("/fhir/Observation/of-p1", "pid:urn:mrn|Zebulon42")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "token patient lookup failed") {
		t.Fatalf("no log line for the failed lookup: %s", logs.String())
	}
	if strings.Contains(logs.String(), "Zebulon42") {
		t.Errorf("the patient identifier reached the log: %s", logs.String())
	}
}
