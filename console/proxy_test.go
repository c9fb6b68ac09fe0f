package console

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/rego"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoPHIInLoggedURLs mounts the console on a real proxy edge (real
// policy, consent store and ledger) and checks that a patient id searched
// for appears in no log line, nor does the token, while the access log
// records the console's and the admin API's routes.
func TestNoPHIInLoggedURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil) // for its bbolt-backed ledger
	db := openTempDB(t)
	consents, err := consent.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policy.New(t.Context(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL + "/fhir")
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := proxy.New(proxy.Options{Upstream: u}, proxy.Deps{
		Labeller: labels.Default(), Decider: engine, Consents: consents, Ledger: f.ledger, Auth: fakeVerifier{}, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := New(ctx, Config{Verifier: fakeVerifier{}, Admin: srv.Handler(), Ledger: f.ledger, Reviews: rs,
		Rules: func() []labels.Rule { return nil }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("/console", c)
	h := srv.Handler()
	if err := f.ledger.Append(t.Context(), entry("Patient/phi-sentinel-42", f.clock.now(), []string{"TREAT"}, false)); err != nil {
		t.Fatal(err)
	}

	token := "aud|ds4p/auditor ds4p/consent-manager"
	req := httptest.NewRequest("POST", "/console/api/login", strings.NewReader(`{"token":"`+token+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	cookie := rec.Result().Cookies()[0]
	req = httptest.NewRequest("GET", "/console/api/session", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	csrf := between(rec.Body.String(), `"csrf":"`, `"`)
	for path, body := range map[string]string{
		"audit/search":     `{"patient":"Patient/phi-sentinel-42"}`,
		"audit/accounting": `{"patient":"Patient/phi-sentinel-42","format":"csv"}`,
		"consent/search":   `{"patient":"Patient/phi-sentinel-42"}`,
	} {
		req := httptest.NewRequest("POST", "/console/api/"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if path == "audit/search" && !strings.Contains(rec.Body.String(), "phi-sentinel-42") {
			t.Errorf("the search did not find the entry: %s", rec.Body)
		}
	}
	out := logs.String()
	for _, want := range []string{`"route":"/console/*path"`, `"route":"/admin/audit"`, `"route":"/admin/audit/accounting"`, `"route":"/admin/Consent"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the access log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{"phi-sentinel", "aud|ds4p", csrf, cookie.Value} {
		if strings.Contains(out, secret) {
			t.Errorf("the log carries %q:\n%s", secret, out)
		}
	}
}

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}
