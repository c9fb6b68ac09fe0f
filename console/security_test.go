package console

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"github.com/ds4p/ds4p/siem"
)

// ctlVerifier is fakeVerifier whose answers a test changes: err refuses
// every token (a key withdrawn from the JWKS, keys unavailable), scopes
// replaces a subject's scopes.
type ctlVerifier struct {
	mu     sync.Mutex
	err    error
	scopes map[string][]string
	calls  int
}

func (v *ctlVerifier) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if v.err != nil {
		return authn.Caller{}, v.err
	}
	c, err := fakeVerifier{}.Verify(ctx, raw)
	if s, ok := v.scopes[c.Subject]; ok && err == nil {
		c.Scopes = s
	}
	return c, err
}

func (v *ctlVerifier) set(err error, subject string, scopes ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.err = err
	if subject != "" {
		if v.scopes == nil {
			v.scopes = map[string][]string{}
		}
		v.scopes[subject] = scopes
	}
}

// events records security events.
type events struct {
	mu  sync.Mutex
	evs []siem.Event
}

func (e *events) emit(ev siem.Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }
func (e *events) all() []siem.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]siem.Event(nil), e.evs...)
}

// watched is a fixture with a controllable verifier, recorded security
// events and a JSON log.
func watched(t *testing.T, mod func(*Config)) (*fixture, *ctlVerifier, *events, *syncBuffer) {
	v, ev, logs := &ctlVerifier{}, &events{}, &syncBuffer{}
	f := newFixture(t, func(c *Config) {
		c.Verifier, c.SecurityEvent = v, ev.emit
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if mod != nil {
			mod(c)
		}
	})
	return f, v, ev, logs
}

// send is a request to the console with the given cookies, CSRF token,
// TLS state and remote address.
type send struct {
	method, path, body string
	cookies            []*http.Cookie
	csrf               string
	tls                *tls.ConnectionState
	remote             string
	hdr                map[string]string
}

func (f *fixture) send(s send) *httptest.ResponseRecorder {
	if s.method == "" {
		s.method = "POST"
	}
	req := httptest.NewRequest(s.method, s.path, strings.NewReader(s.body))
	req.Header.Set("Content-Type", "application/json")
	if s.csrf != "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	for k, v := range s.hdr {
		req.Header.Set(k, v)
	}
	req.TLS = s.tls
	if s.remote != "" {
		req.RemoteAddr = s.remote
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func certState(name string) *tls.ConnectionState {
	return &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: name}}}}}
}

// localCalls are the console calls answered in the console itself, not
// relayed to the admin API (whose edge checks the token on its own).
var localCalls = map[string]string{
	"audit/breakglass": `{}`,
	"audit/review":     `{"seq":1,"hash":"x","note":"n"}`,
	"audit/verify":     `{}`,
	"audit/stats":      `{}`,
	"policy/tests":     `{}`,
	"labels/rules":     `{}`,
}

// A session whose token the verifier no longer accepts ends at its next
// call, whichever call it is, with a token_refused event; the session's
// roles follow the token's.
func TestSessionTokenReverified(t *testing.T) {
	t.Parallel()
	for call, body := range localCalls {
		f, v, ev, logs := watched(t, nil)
		b := f.login(t, "staff#console|ds4p/auditor ds4p/policy-author")
		v.set(authn.ErrUnauthenticated, "")
		rec := f.call(b, call, body)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s after the token was withdrawn: %d %s", call, rec.Code, rec.Body)
		}
		if n := f.h.sessions.len(); n != 0 {
			t.Errorf("%s: %d sessions left", call, n)
		}
		// The verifier takes the token again: the session is gone all the same.
		v.set(nil, "")
		if rec := f.call(b, call, body); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with the ended session: %d", call, rec.Code)
		}
		evs := ev.all()
		if len(evs) != 1 || evs[0].Kind != siem.KindTokenRefused || evs[0].Subject != "staff" || evs[0].Client != "console" || evs[0].RequestID == "" {
			t.Errorf("%s: events %+v", call, evs)
		}
		if !strings.Contains(logs.String(), `"reason":"`+endRefused+`"`) {
			t.Errorf("%s: the end of the session is not logged:\n%s", call, logs)
		}
	}

	// Roles are refreshed from each verification.
	f, v, _, _ := watched(t, nil)
	b := f.login(t, "staff|ds4p/auditor ds4p/policy-author")
	v.set(nil, "staff", authn.PolicyAuthorScope)
	if rec := f.call(b, "audit/breakglass", `{}`); rec.Code != http.StatusForbidden {
		t.Errorf("a role the token no longer carries: %d", rec.Code)
	}
	if rec := f.call(b, "labels/rules", `{}`); rec.Code != http.StatusOK {
		t.Errorf("a role it still carries: %d", rec.Code)
	}
	rec := f.send(send{method: "GET", path: "/console/api/session", cookies: []*http.Cookie{b.cookie}})
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), authn.AuditorScope) {
		t.Errorf("session info after the role was dropped: %d %s", rec.Code, rec.Body)
	}

	// Keys that cannot be fetched are not a judgement of the token: 503,
	// and the session stays.
	v.set(fmt.Errorf("jwks down: %w", authn.ErrKeysUnavailable), "")
	if rec := f.call(b, "labels/rules", `{}`); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("keys unavailable: %d", rec.Code)
	}
	v.set(nil, "")
	if rec := f.call(b, "labels/rules", `{}`); rec.Code != http.StatusOK {
		t.Errorf("keys back: %d", rec.Code)
	}
}

// With mutual TLS a console sign-in binds the token to the client
// certificate as the proxy's edge does, and a session is used only with
// the certificate it signed in with.
func TestSignInBindsClientCertificate(t *testing.T) {
	t.Parallel()
	var blockedAsked []string
	var mu sync.Mutex
	f, _, ev, _ := watched(t, func(c *Config) {
		c.Blocked = func(subject, client string) (string, bool) {
			mu.Lock()
			blockedAsked = append(blockedAsked, client)
			mu.Unlock()
			return "", false
		}
	})
	login := func(token string, cs *tls.ConnectionState) *httptest.ResponseRecorder {
		return f.send(send{path: "/console/api/login", body: `{"token":"` + token + `"}`, tls: cs, hdr: map[string]string{"X-Request-Id": "rid-login-1"}})
	}
	// A token issued to another client than the certificate names.
	if rec := login("aud#console|ds4p/auditor", certState("other-app")); rec.Code != http.StatusUnauthorized || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("mismatched certificate: %d %s", rec.Code, rec.Body)
	}
	evs := ev.all()
	if len(evs) != 1 || evs[0].Kind != siem.KindTokenRefused || evs[0].Client != "console" || evs[0].RequestID != "rid-login-1" ||
		!strings.Contains(evs[0].Reason, authn.ErrClientCertificate.Error()) {
		t.Fatalf("events %+v", evs)
	}
	if !strings.Contains(login("aud#console|ds4p/auditor", certState("other-app")).Body.String(), "issued to another client") {
		t.Error("mismatched certificate: the answer does not say the token is another client's")
	}
	// A certificate that names no client is told as such, as at the
	// proxy's edge (QA round 19: the console said "another client").
	if rec := login("aud#console|ds4p/auditor", certState("")); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "names no client") {
		t.Fatalf("unnamed certificate: %d %s", rec.Code, rec.Body)
	}
	// The same client: signed in.
	if rec := login("aud#console|ds4p/auditor", certState("console")); rec.Code != http.StatusOK {
		t.Fatalf("matching certificate: %d %s", rec.Code, rec.Body)
	}
	// No client in the token: it takes the certificate's.
	rec := login("aud2|ds4p/auditor", certState("app-a"))
	if rec.Code != http.StatusOK {
		t.Fatalf("token without a client: %d %s", rec.Code, rec.Body)
	}
	cookie := rec.Result().Cookies()[0]
	csrf := between(rec.Body.String(), `"csrf":"`, `"`)
	if s, ok := f.h.sessions.get(cookie.Value); !ok || s.client != "app-a" || s.certID != "app-a" {
		t.Fatalf("session %+v", s)
	}
	call := func(cs *tls.ConnectionState) int {
		return f.send(send{path: "/console/api/audit/breakglass", body: `{}`, cookies: []*http.Cookie{cookie}, csrf: csrf, tls: cs}).Code
	}
	if got := call(certState("app-a")); got != http.StatusOK {
		t.Fatalf("same certificate: %d", got)
	}
	mu.Lock()
	if last := blockedAsked[len(blockedAsked)-1]; last != "app-a" {
		t.Errorf("blocks checked for client %q", last)
	}
	mu.Unlock()
	if got := call(certState("app-b")); got != http.StatusUnauthorized {
		t.Fatalf("another certificate: %d", got)
	}
	// The cookie used with another certificate ended the session.
	if got := call(certState("app-a")); got != http.StatusUnauthorized {
		t.Fatalf("after another certificate: %d", got)
	}
	// A session signed in without a certificate is not usable with one.
	b := f.login(t, "aud3|ds4p/auditor")
	if got := f.send(send{path: "/console/api/labels/rules", cookies: []*http.Cookie{b.cookie}, csrf: b.csrf, tls: certState("app-a")}).Code; got != http.StatusUnauthorized {
		t.Fatalf("certificate added: %d", got)
	}
}

// The binding at sign-in is the edge's: on a real proxy the same token
// and certificate are refused by /admin and by the console alike.
func TestSignInBindingMatchesEdge(t *testing.T) {
	t.Parallel()
	h, ev, _ := edge(t)
	cs := certState("attacker-client")
	tok := "aud#console|ds4p/auditor"
	direct := httptest.NewRequest("GET", "/admin/audit", nil)
	direct.TLS = cs
	direct.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, direct)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("edge: %d", rec.Code)
	}
	login := httptest.NewRequest("POST", "/console/api/login", strings.NewReader(`{"token":"`+tok+`"}`))
	login.TLS = cs
	login.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, login)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("console sign-in: %d %s", rec.Code, rec.Body)
	}
	rid := rec.Header().Get("X-Request-Id")
	var found bool
	for _, e := range ev.all() {
		if e.Kind == siem.KindTokenRefused && e.RequestID == rid && rid != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no token_refused event with the sign-in's request id %q: %+v", rid, ev.all())
	}
}

// edge is the console mounted on a real proxy edge whose security events
// go to ev, as cmd/ds4p wires them, both logging to logs.
func edge(t *testing.T) (http.Handler, *events, *syncBuffer) {
	f := newFixture(t, nil)
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
	ev, logs := &events{}, &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := proxy.New(proxy.Options{Upstream: u}, proxy.Deps{
		Labeller: labels.Default(), Decider: engine, Consents: consents, Ledger: f.ledger, Auth: fakeVerifier{},
		Events: emitterFunc(ev.emit), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(t.Context(), Config{Verifier: fakeVerifier{}, Admin: srv.Handler(), Ledger: f.ledger, Reviews: rs,
		Rules: func() []labels.Rule { return nil }, SecurityEvent: srv.SecurityEvent, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("/console", c)
	return srv.Handler(), ev, logs
}

// Behind the proxy's edge a console call, the edge's access log line of
// it and of the /admin request it relays share one request id.
func TestRelayedRequestIDJoins(t *testing.T) {
	t.Parallel()
	h, _, logs := edge(t)
	post := func(path, body string, cookie *http.Cookie, csrf string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/console/api/"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.Header.Set("X-Request-Id", "not plain!") // the edge makes its own
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post("login", `{"token":"aud-joe|ds4p/auditor"}`, nil, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	rec = post("audit/search", `{"patient":"Patient/p-77"}`, rec.Result().Cookies()[0], between(rec.Body.String(), `"csrf":"`, `"`))
	rid := rec.Header().Get("X-Request-Id")
	if rec.Code != http.StatusOK || rid == "" {
		t.Fatalf("search: %d %q", rec.Code, rid)
	}
	seen := map[string]bool{}
	for _, l := range logLines(t, logs) {
		if l["request_id"] == rid {
			what, _ := l["route"].(string)
			if call, ok := l["call"].(string); ok {
				what = call
			}
			seen[fmt.Sprint(l["msg"])+" "+what] = true
		}
	}
	for _, want := range []string{"console call audit/search", "request /console/*path", "request /admin/audit"} {
		if !seen[want] {
			t.Errorf("no %q line with request id %s: %v\n%s", want, rid, seen, logs)
		}
	}
}

type emitterFunc func(siem.Event)

func (f emitterFunc) Emit(ev siem.Event) error { f(ev); return nil }

// A refused sign-in emits token_refused with the request id, and never
// the token.
func TestRefusedSignInEvent(t *testing.T) {
	t.Parallel()
	f, _, ev, logs := watched(t, nil)
	rec := f.send(send{path: "/console/api/login", body: `{"token":"not-a-token-secret"}`})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("%d", rec.Code)
	}
	evs := ev.all()
	if len(evs) != 1 || evs[0].Kind != siem.KindTokenRefused || evs[0].Severity != siem.SeverityWarning ||
		evs[0].RequestID == "" || evs[0].RequestID != rec.Header().Get("X-Request-Id") {
		t.Fatalf("events %+v (request id %q)", evs, rec.Header().Get("X-Request-Id"))
	}
	b, _ := json.Marshal(evs)
	if strings.Contains(string(b), "secret") || strings.Contains(logs.String(), "secret") {
		t.Fatalf("the token leaked: %s\n%s", b, logs)
	}
}

// Console calls are logged with who (subject, a hash of the session),
// which call and the request id, which the relayed /admin request
// carries too; sign-out, expiry and eviction are logged. Never the token,
// cookie, CSRF token or a patient id.
func TestConsoleCallsAttributed(t *testing.T) {
	t.Parallel()
	var relayedID string
	var mu sync.Mutex
	f, _, _, logs := watched(t, func(c *Config) {
		c.MaxSessions = 2
		c.Admin = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			relayedID = r.Header.Get("X-Request-Id")
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		})
	})
	if err := f.ledger.Append(t.Context(), entry("Patient/phi-bg-8", f.clock.now(), []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, "aud-alice|ds4p/auditor")
	tag := sessionTag(b.cookie.Value)
	rec := f.send(send{path: "/console/api/audit/breakglass", body: `{}`, cookies: []*http.Cookie{b.cookie}, csrf: b.csrf,
		hdr: map[string]string{"X-Request-Id": "rid-bg-1"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "phi-bg-8") {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	rec = f.send(send{path: "/console/api/audit/search", body: `{"patient":"Patient/phi-bg-8"}`, cookies: []*http.Cookie{b.cookie}, csrf: b.csrf,
		hdr: map[string]string{"X-Request-Id": "rid-search-2"}})
	if rec.Code != http.StatusOK || relayedID != "rid-search-2" {
		t.Fatalf("search: %d, relayed request id %q", rec.Code, relayedID)
	}
	lines := logLines(t, logs)
	want := func(msg string, kv map[string]string) {
		t.Helper()
		for _, l := range lines {
			if l["msg"] != msg {
				continue
			}
			ok := true
			for k, v := range kv {
				if fmt.Sprint(l[k]) != v {
					ok = false
				}
			}
			if ok {
				return
			}
		}
		t.Errorf("no %q line with %v in:\n%s", msg, kv, logs)
	}
	want("console session started", map[string]string{"session": tag, "subject": "aud-alice"})
	want("console call", map[string]string{"call": "audit/breakglass", "session": tag, "subject": "aud-alice", "request_id": "rid-bg-1"})
	want("console call", map[string]string{"call": "audit/search", "session": tag, "subject": "aud-alice", "request_id": "rid-search-2"})

	// Sign-out, idle expiry and eviction.
	req := f.send(send{path: "/console/api/logout", cookies: []*http.Cookie{b.cookie}, csrf: b.csrf})
	if req.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", req.Code)
	}
	idle := f.login(t, "aud-bob|ds4p/auditor")
	f.clock.add(31 * time.Minute)
	if rec := f.call(idle, "audit/stats", `{}`); rec.Code != http.StatusUnauthorized {
		t.Fatalf("idle session: %d", rec.Code)
	}
	first := f.login(t, "aud-carol|ds4p/auditor")
	f.clock.add(time.Second)
	f.login(t, "aud-dave|ds4p/auditor")
	f.clock.add(time.Second)
	f.login(t, "aud-erin|ds4p/auditor") // the store holds 2: carol's goes
	lines = logLines(t, logs)
	want("console session ended", map[string]string{"session": tag, "subject": "aud-alice", "reason": endSignedOut})
	want("console session ended", map[string]string{"session": sessionTag(idle.cookie.Value), "subject": "aud-bob", "reason": endIdle})
	want("console session ended", map[string]string{"session": sessionTag(first.cookie.Value), "subject": "aud-carol", "reason": endStoreFull})

	out := logs.String()
	for _, secret := range []string{"phi-bg-8", "|ds4p/auditor", b.csrf, b.cookie.Value, idle.cookie.Value, idle.csrf} {
		if strings.Contains(out, secret) {
			t.Errorf("the log carries %q:\n%s", secret, out)
		}
	}
}

func logLines(t *testing.T, logs *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// One subject holds at most 5 sessions (its oldest goes first), so signing
// in over and over evicts no one else's.
func TestSessionsPerSubject(t *testing.T) {
	t.Parallel()
	f, _, _, logs := watched(t, nil)
	other := f.login(t, "aud-other|ds4p/auditor")
	var mine []browser
	for range 6 {
		f.clock.add(time.Second)
		mine = append(mine, f.login(t, "aud-flood|ds4p/auditor"))
	}
	if rec := f.call(mine[0], "audit/stats", `{}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("the subject's oldest session: %d", rec.Code)
	}
	for i, b := range append(mine[1:], other) {
		if rec := f.call(b, "audit/stats", `{}`); rec.Code != http.StatusOK {
			t.Errorf("session %d: %d", i, rec.Code)
		}
	}
	if n := f.h.sessions.len(); n != 6 {
		t.Errorf("%d sessions, want 5 + 1", n)
	}
	if !strings.Contains(logs.String(), endSubjectCap) {
		t.Errorf("eviction not logged:\n%s", logs)
	}

}

// Sign-ins are rate-limited per client address: 10 at once, then one
// every 6 s; more are 429 with the console's JSON error.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	f, _, _, _ := watched(t, nil)
	login := func(remote string) *httptest.ResponseRecorder {
		return f.send(send{path: "/console/api/login", body: `{"token":"aud-x|ds4p/auditor"}`, remote: remote})
	}
	for i := range 10 {
		if rec := login("192.0.2.1:1234"); rec.Code != http.StatusOK {
			t.Fatalf("sign-in %d: %d", i, rec.Code)
		}
	}
	rec := login("192.0.2.1:999")
	var body struct{ Error string }
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" ||
		json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error == "" || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("11th sign-in: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := login("198.51.100.7:1"); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d", rec.Code)
	}
	f.clock.add(6 * time.Second)
	if rec := login("192.0.2.1:1234"); rec.Code != http.StatusOK {
		t.Fatalf("after 6 s: %d", rec.Code)
	}
	if rec := login("192.0.2.1:1234"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("again at once: %d", rec.Code)
	}
}

// Cross-site posts (any page the user opens can send a form) are refused
// before they count: they must not spend the address's sign-ins (QA round
// 12 locked an auditor out with ten of them).
func TestCrossSitePostsDoNotSpendSignIns(t *testing.T) {
	t.Parallel()
	f, _, _, _ := watched(t, nil)
	for i := range 20 {
		rec := f.send(send{path: "/console/api/login", body: `token=x`, remote: "192.0.2.9:1",
			hdr: map[string]string{"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}})
		if rec.Code != http.StatusForbidden {
			t.Fatalf("cross-site post %d: %d", i, rec.Code)
		}
	}
	if rec := f.send(send{path: "/console/api/login", body: `{"token":"aud-x|ds4p/auditor"}`, remote: "192.0.2.9:2"}); rec.Code != http.StatusOK {
		t.Fatalf("the user's own sign-in after them: %d %s", rec.Code, rec.Body)
	}
}

func TestLoginLimiterBounded(t *testing.T) {
	t.Parallel()
	now := time.Now()
	l := newLoginLimiter(2, time.Second, func() time.Time { return now })
	l.max = 10
	for i := range 100 {
		l.allow(fmt.Sprintf("10.0.0.%d", i))
	}
	if len(l.buckets) > 10 {
		t.Fatalf("%d buckets", len(l.buckets))
	}
}

// Signing in again in a browser ends the session its cookie named.
func TestSignInEndsPreviousSession(t *testing.T) {
	t.Parallel()
	f, _, _, _ := watched(t, nil)
	first := f.login(t, "aud-a|ds4p/auditor")
	rec := f.send(send{path: "/console/api/login", body: `{"token":"cm-b|ds4p/consent-manager"}`, cookies: []*http.Cookie{first.cookie}})
	if rec.Code != http.StatusOK {
		t.Fatalf("second sign-in: %d", rec.Code)
	}
	if got := f.call(first, "audit/stats", `{}`); got.Code != http.StatusUnauthorized {
		t.Fatalf("the first session after signing in again: %d", got.Code)
	}
	if n := f.h.sessions.len(); n != 1 {
		t.Fatalf("%d sessions", n)
	}
}

// A request with several console cookies is refused: which is the
// console's cannot be told.
func TestSeveralCookiesRefused(t *testing.T) {
	t.Parallel()
	f, _, _, _ := watched(t, nil)
	b := f.login(t, auditorTok)
	planted := f.login(t, "mallory|ds4p/auditor")
	both := []*http.Cookie{planted.cookie, b.cookie}
	for name, s := range map[string]send{
		"call":    {path: "/console/api/audit/stats", body: `{}`, cookies: both, csrf: b.csrf},
		"session": {method: "GET", path: "/console/api/session", cookies: both},
		"login":   {path: "/console/api/login", body: `{"token":"aud|ds4p/auditor"}`, cookies: both},
		"logout":  {path: "/console/api/logout", cookies: both, csrf: b.csrf},
	} {
		if rec := f.send(s); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "several") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if rec := f.call(b, "audit/stats", `{}`); rec.Code != http.StatusOK {
		t.Fatalf("one cookie: %d", rec.Code)
	}
}

// Over TLS the console's answers carry HSTS; over plain HTTP they cannot.
func TestHSTS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, c := range []struct {
		tls  *tls.ConnectionState
		want string
	}{{&tls.ConnectionState{}, "max-age=31536000"}, {nil, ""}} {
		for _, s := range []send{{method: "GET", path: "/console/"}, {path: "/console/api/login", body: `{"token":"x"}`}} {
			s.tls = c.tls
			if got := f.send(s).Header().Get("Strict-Transport-Security"); got != c.want {
				t.Errorf("%s %s (TLS %v): %q", s.method, s.path, c.tls != nil, got)
			}
		}
	}
}

// TestBehindTLSTerminatingProxy: with a load balancer ending TLS in front,
// the connection is plain HTTP while browsers send the public https
// Origin. Without PublicOrigin every sign-in was refused as cross-origin
// and the cookie was not Secure; with it (serve takes public_base_url)
// the console works, its cookie is a Secure __Host- one and responses
// carry HSTS; the public origin is same-origin beside the connection's own.
func TestBehindTLSTerminatingProxy(t *testing.T) {
	t.Parallel()
	const public = "https://console.example"
	f := newFixture(t, func(c *Config) { c.PublicOrigin = "https://Console.Example:443/fhir" })
	if f.h.cfg.PublicOrigin != public {
		t.Fatalf("public origin %q", f.h.cfg.PublicOrigin)
	}
	send := func(path, body string, hdr map[string]string, c *http.Cookie) *httptest.ResponseRecorder {
		method := "POST"
		if path == "/console/api/session" {
			method = "GET"
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Host = "10.0.0.5:8080" // the balancer's connection, plain HTTP
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if c != nil {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec
	}
	login := `{"token":"aud|ds4p/auditor"}`
	for _, o := range []string{"http://console.example", "https://10.0.0.5:8080", "https://evil.example", "https://console.example.evil.example"} {
		if rec := send("/console/api/login", login, map[string]string{"Content-Type": "application/json", "Origin": o}, nil); rec.Code != http.StatusForbidden {
			t.Errorf("sign-in from %s: %d, want 403", o, rec.Code)
		}
	}
	rec := send("/console/api/login", login, map[string]string{"Content-Type": "application/json", "Origin": public}, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("sign-in from the public origin: %d %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Strict-Transport-Security"); got == "" {
		t.Error("no Strict-Transport-Security behind an https origin")
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("%d cookies", len(cs))
	}
	c := cs[0]
	if c.Name != SecureCookieName || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", c)
	}
	var s struct{ CSRF string }
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.CSRF == "" {
		t.Fatalf("sign-in answer %s", rec.Body)
	}
	call := map[string]string{"Content-Type": "application/json", "Origin": public, "X-CSRF-Token": s.CSRF}
	if rec := send("/console/api/session", "{}", call, c); rec.Code != http.StatusOK {
		t.Fatalf("session with the __Host- cookie: %d %s", rec.Code, rec.Body)
	}
	// The same session id under the plain name, as plain http on this host
	// or a sibling could set it, is not the console's cookie here.
	plain := &http.Cookie{Name: CookieName, Value: c.Value}
	if rec := send("/console/api/session", "{}", call, plain); rec.Code != http.StatusUnauthorized {
		t.Fatalf("session with a plain-named cookie: %d, want 401", rec.Code)
	}
	// Two __Host- cookies (a browser that kept an older one) are refused.
	req := httptest.NewRequest("GET", "/console/api/session", nil)
	req.Host = "10.0.0.5:8080"
	for k, v := range call {
		req.Header.Set(k, v)
	}
	req.AddCookie(c)
	req.AddCookie(&http.Cookie{Name: SecureCookieName, Value: "other"})
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("two __Host- cookies: %d, want 401", rec.Code)
	}
	// Signing out clears the __Host- cookie with its own attributes.
	rec = send("/console/api/logout", "{}", call, c)
	if cs := rec.Result().Cookies(); rec.Code != http.StatusNoContent || len(cs) != 1 || cs[0].Name != SecureCookieName || cs[0].Path != "/" || !cs[0].Secure || cs[0].MaxAge >= 0 {
		t.Fatalf("sign-out: %d %+v", rec.Code, rec.Result().Cookies())
	}

	// Without PublicOrigin, the connection's scheme decides, as before: an
	// https Origin over a plain connection is another origin.
	g := newFixture(t, nil)
	if rec := g.do("POST", "/console/api/login", login, map[string]string{"Content-Type": "application/json", "Origin": "https://example.com"}); rec.Code != http.StatusForbidden {
		t.Fatalf("no public origin, https Origin over http: %d", rec.Code)
	}
}

func TestPublicOriginMustBeAnHTTPURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"console.example", "ftp://console.example", "https://", "https://user@console.example", "::"} {
		_, err := New(context.Background(), Config{Verifier: fakeVerifier{}, Admin: &fakeAdmin{}, Ledger: &audit.Ledger{}, Reviews: &audit.Reviews{},
			Rules: labels.DefaultRules, PublicOrigin: bad})
		if err == nil {
			t.Errorf("public origin %q accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"http://a.example:80/x": "http://a.example", "https://A.example:8443": "https://a.example:8443", "https://[::1]:443/fhir": "https://[::1]",
	} {
		if got, err := originOf(in); err != nil || got != want {
			t.Errorf("originOf(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
