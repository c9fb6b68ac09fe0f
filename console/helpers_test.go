package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
	"go.etcd.io/bbolt"
)

// fakeVerifier accepts tokens "subject|scope scope|expiry-unix" (expiry
// optional); "subject#client|..." names the client too.
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, raw string) (authn.Caller, error) {
	parts := strings.Split(raw, "|")
	if len(parts) < 2 || parts[0] == "" {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	sub, client, _ := strings.Cut(parts[0], "#")
	c := authn.Caller{Subject: sub, Client: client, Scopes: strings.Fields(parts[1])}
	if len(parts) == 3 {
		var sec int64
		if err := json.Unmarshal([]byte(parts[2]), &sec); err != nil {
			return authn.Caller{}, authn.ErrUnauthenticated
		}
		c.Expiry = time.Unix(sec, 0)
	}
	return c, nil
}

// adminCall is one request the console made to the admin API.
type adminCall struct {
	Method, Path, RawQuery, Auth, Body string
}

// fakeAdmin records the admin calls and answers {"ok": true}.
type fakeAdmin struct {
	mu    sync.Mutex
	calls []adminCall
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, adminCall{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), string(body)})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (f *fakeAdmin) last() adminCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return adminCall{}
	}
	return f.calls[len(f.calls)-1]
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a console on a real ledger and review store in a temporary
// bbolt file, with a fake admin API.
type fixture struct {
	h      *Handler
	admin  *fakeAdmin
	ledger *audit.Ledger
	clock  *clock
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{admin: &fakeAdmin{}, ledger: l, clock: &clock{t: time.Now()}}
	cfg := Config{
		Verifier: fakeVerifier{}, Admin: f.admin, Ledger: l, Reviews: rs,
		Rules: func() []labels.Rule { return labels.DefaultRules() }, Now: f.clock.now,
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if f.h, err = New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

// browser is a signed-in session: its cookie and CSRF token.
type browser struct {
	cookie *http.Cookie
	csrf   string
}

// do sends a request to the console and returns the recorder.
func (f *fixture) do(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// login signs in with token and fails the test unless it worked.
func (f *fixture) login(t *testing.T, token string) browser {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": token})
	rec := f.do("POST", "/console/api/login", string(body), map[string]string{"Content-Type": "application/json"})
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var s struct{ CSRF string }
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.CSRF == "" {
		t.Fatalf("login answer: %s", rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	return browser{cookie: cookies[0], csrf: s.CSRF}
}

// call makes an API call as b.
func (f *fixture) call(b browser, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/console/api/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.AddCookie(b.cookie)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// entry is a ledger entry for patient at t.
func entry(patient string, t time.Time, purposes []string, breakGlass bool) audit.Entry {
	e := audit.Entry{
		Time: t, RequestID: "r", Caller: audit.Party{Subject: "dr", Org: "Organization/o"}, Purposes: purposes,
		Patient: patient, Interaction: "search",
		Disclosed: []audit.Item{{Type: "Condition", ID: "c1", Version: "1",
			Labels: []string{labels.SystemActCode + "|SUD", labels.SystemActCode + "|42CFRPart2"}}},
		Withheld:       []audit.Item{{Type: "Observation", ID: "o1", Version: "1", Labels: []string{labels.SystemActCode + "|HIV"}}},
		PolicyRevision: "rev",
	}
	if breakGlass {
		e.BreakGlass = &audit.BreakGlass{Reason: "overdose", DisclosedBy: "ds4p"}
	}
	return e
}

// openTempDB opens a fresh bbolt file.
func openTempDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
