package proxy

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// tokenServer is a SMART Backend Services token endpoint: it checks the
// client assertion's signature with pub (or the Basic credentials), and
// its claims, and answers tokens tok-1, tok-2 ... with a short lifetime.
type tokenServer struct {
	t      *testing.T
	srv    *httptest.Server
	pub    crypto.PublicKey
	alg    jwa.SignatureAlgorithm
	client string
	secret string // client_secret_basic when set
	scope  string

	mu      sync.Mutex
	issued  int
	hits    int  // requests, answered or not
	down    bool // answers 503
	block   chan struct{}
	jtis    map[string]bool
	bad     []string // what it found wrong
	answers map[int]string
}

func newTokenServer(t *testing.T, pub crypto.PublicKey, alg jwa.SignatureAlgorithm) *tokenServer {
	ts := &tokenServer{t: t, pub: pub, alg: alg, client: "ds4p-client", scope: "system/*.rs", jtis: map[string]bool{}}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) url() string { return ts.srv.URL + "/oauth2/token" }

func (ts *tokenServer) fail(format string, a ...any) {
	ts.bad = append(ts.bad, fmt.Sprintf(format, a...))
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	block := ts.block
	ts.mu.Unlock()
	if block != nil {
		<-block
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.hits++
	if ts.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.URL.RawQuery != "" {
		ts.fail("not a form POST: %s %v", r.Method, err)
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != ts.scope {
		ts.fail("form %v", r.PostForm)
	}
	if ts.secret != "" {
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != ts.client || secret != ts.secret || r.PostForm.Has("client_assertion") {
			ts.fail("basic credentials %q (ok %v)", id, ok)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
	} else if !ts.checkAssertion(r) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	ts.issued++
	if a, ok := ts.answers[ts.issued]; ok {
		_, _ = w.Write([]byte(a))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": fmt.Sprintf("tok-%d", ts.issued), "token_type": "bearer", "expires_in": 120, "scope": ts.scope})
}

func (ts *tokenServer) checkAssertion(r *http.Request) bool {
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		ts.fail("client_assertion_type %q", r.PostForm.Get("client_assertion_type"))
		return false
	}
	raw := []byte(r.PostForm.Get("client_assertion"))
	payload, err := jws.Verify(raw, jws.WithKey(ts.alg, ts.pub))
	if err != nil {
		ts.fail("assertion signature: %v", err)
		return false
	}
	msg, _ := jws.Parse(raw)
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.KeyID() != "key-2026" || h.Type() != "JWT" || h.Algorithm() != ts.alg {
		ts.fail("header kid %q typ %q alg %q", h.KeyID(), h.Type(), h.Algorithm())
	}
	var c struct {
		Iss, Sub, Jti string
		Aud           any
		Exp, Iat      int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		ts.fail("claims: %v", err)
		return false
	}
	now := time.Now().Unix()
	if c.Iss != ts.client || c.Sub != ts.client || c.Aud != ts.url() || c.Exp <= now || c.Exp > now+300 || c.Jti == "" || ts.jtis[c.Jti] {
		ts.fail("claims %s", payload)
		return false
	}
	ts.jtis[c.Jti] = true
	return true
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued
}

func (ts *tokenServer) check() {
	ts.t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, b := range ts.bad {
		ts.t.Error("token server: " + b)
	}
}

// writePEM writes blocks of type typ to a new file.
func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// oauthClock is a clock the test moves.
type oauthClock struct{ off atomic.Int64 }

func (f *oauthClock) now() time.Time          { return time.Now().Add(time.Duration(f.off.Load())) }
func (f *oauthClock) advance(d time.Duration) { f.off.Add(int64(d)) }

// TestClientCredentialsUpstream: ds4p runs the SMART Backend Services
// grant itself (an ES384 assertion the token server verifies); the
// upstream, which takes only the token last issued, gets it on every
// request; the token is reused until it nears expiry, then fetched again;
// a 401 makes the next request fetch another; with the token server down
// requests fail closed (502, nothing reaches the upstream) and it is not
// asked again before a second has passed; back up, requests go through.
func TestClientCredentialsUpstream(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	ts := newTokenServer(t, &key.PublicKey, jwa.ES384)
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: ts.url(), ClientID: ts.client, Scope: ts.scope,
		PrivateKeyFile: writePEM(t, "PRIVATE KEY", der), KeyID: "key-2026"})
	if err != nil {
		t.Fatal(err)
	}
	clock := &oauthClock{}
	creds.now = clock.now
	var mu sync.Mutex
	valid, seen := "tok-1", []string{}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got, ok := r.Header.Get("Authorization"), valid
		seen = append(seen, got)
		mu.Unlock()
		if got != "Bearer "+ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fhirJSONHandler(200, bpObs)(w, r)
	}, func(o *Options, _ *Deps) {
		o.UpstreamCredentials = creds
		// The read after a 401 waits out tokenRetryAfter (a second) before
		// it fetches again, inside the exchange's bound: the harness's two
		// seconds left a loaded machine under a second for the grant and
		// the second round trip, and the read was answered the 401.
		o.UpstreamTimeout = 10 * time.Second
	})
	read := func() (int, string) {
		resp, body := h.get("/fhir/Observation/bp1", tokOther)
		return resp.StatusCode, body
	}
	setValid := func(v string) int {
		mu.Lock()
		defer mu.Unlock()
		valid = v
		return len(seen)
	}
	if code, body := read(); code != 200 || !strings.Contains(body, `"bp1"`) {
		t.Fatalf("first read: %d %s", code, body)
	}
	if code, _ := read(); code != 200 || ts.count() != 1 {
		t.Fatalf("second read: %d, %d tokens fetched (want the first reused)", code, ts.count())
	}
	// Near its expiry (120s less the margin) the token is fetched again.
	setValid("tok-2")
	clock.advance(100 * time.Second)
	if code, body := read(); code != 200 || ts.count() != 2 {
		t.Fatalf("read after expiry: %d %s, %d tokens fetched", code, body, ts.count())
	}
	// The upstream rejects the token (revoked): the read is sent once more
	// with a new one, and the caller is not answered 401 for ds4p's
	// credentials.
	n := setValid("tok-3")
	if code, body := read(); code != 200 || ts.count() != 3 {
		t.Fatalf("read with a revoked token: %d %s, %d tokens fetched", code, body, ts.count())
	}
	mu.Lock()
	if got := seen[n:]; len(got) != 2 || got[0] != "Bearer tok-2" || got[1] != "Bearer tok-3" {
		t.Errorf("the upstream saw %q, want the revoked token and then the new one", got)
	}
	mu.Unlock()
	// The token server is down: nothing is sent upstream, nothing disclosed.
	ts.mu.Lock()
	ts.down = true
	hits := ts.hits
	ts.mu.Unlock()
	before := setValid("tok-4")
	clock.advance(100 * time.Second)
	for range 3 {
		if code, body := read(); code != http.StatusBadGateway || strings.Contains(body, "bp1") || strings.Contains(body, "tok-") {
			t.Errorf("read with the token server down: %d %s", code, body)
		}
	}
	mu.Lock()
	if len(seen) != before {
		t.Errorf("requests reached the upstream without a token: %q", seen[before:])
	}
	mu.Unlock()
	// Three requests within the second after the failure: one fetch only.
	ts.mu.Lock()
	if n := ts.hits - hits; n != 1 {
		t.Errorf("the token server was asked %d times for three requests within a second", n)
	}
	ts.down = false
	ts.mu.Unlock()
	clock.advance(2 * tokenRetryAfter)
	if code, body := read(); code != 200 || !strings.Contains(body, `"bp1"`) {
		t.Fatalf("read with the token server back: %d %s", code, body)
	}
	ts.check()
	mu.Lock()
	defer mu.Unlock()
	for _, a := range seen {
		if !strings.HasPrefix(a, "Bearer tok-") {
			t.Errorf("the upstream got Authorization %q", a)
		}
	}
}

// TestClientCredentialsBackoff: a failing token endpoint is asked once per
// second at most, however many requests come; each of them fails.
func TestClientCredentialsBackoff(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: srv.URL + "/token", ClientID: "c", ClientSecretFile: secret})
	if err != nil {
		t.Fatal(err)
	}
	clock := &oauthClock{}
	creds.now = clock.now // stands still: within the second
	for range 20 {
		if _, err := creds.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
			t.Fatalf("Token = %v", err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the token endpoint was asked %d times within a second", n)
	}
	clock.advance(2 * tokenRetryAfter)
	_, _ = creds.Token(context.Background())
	if n := hits.Load(); n != 2 {
		t.Errorf("after the back-off the endpoint was asked %d times in all, want 2", n)
	}
}

// TestClientCredentialsOneFetch: requests waiting for a token share one
// fetch, and each waits no longer than its context allows.
func TestClientCredentialsOneFetch(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(key) // SEC 1
	ts := newTokenServer(t, &key.PublicKey, jwa.ES384)
	ts.block = make(chan struct{})
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: ts.url(), ClientID: ts.client, Scope: ts.scope,
		PrivateKeyFile: writePEM(t, "EC PRIVATE KEY", der), KeyID: "key-2026"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := creds.Token(ctx); err == nil {
		t.Fatal("a cancelled request got a token while the fetch is blocked")
	}
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = creds.Token(context.Background())
		}()
	}
	close(ts.block)
	wg.Wait()
	for i, tok := range toks {
		if tok != "tok-1" {
			t.Errorf("request %d got %q", i, tok)
		}
	}
	if n := ts.count(); n != 1 {
		t.Errorf("%d tokens fetched for concurrent requests, want 1", n)
	}
	ts.check()
}

// TestClientCredentialsSecretBasic: client_secret_basic sends the id and
// secret form-encoded in Basic, and no assertion; the proxy's upstream
// gets the token.
func TestClientCredentialsSecretBasic(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil, "")
	ts.secret, ts.client = "s3cret:with/odd&chars", "client id:1"
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte(ts.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: ts.url(), ClientID: ts.client, Scope: ts.scope, ClientSecretFile: secret})
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Value
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		fhirJSONHandler(200, bpObs)(w, r)
	}, func(o *Options, _ *Deps) { o.UpstreamCredentials = creds })
	if resp, body := h.get("/fhir/Observation/bp1", tokOther); resp.StatusCode != 200 || got.Load() != "Bearer tok-1" {
		t.Fatalf("read: %d %s; upstream got %v", resp.StatusCode, body, got.Load())
	}
	ts.check()
}

// TestClientCredentialsErrorsTellNoSecrets: a refused grant, an answer
// that is no bearer token or is too large, fail with errors naming the
// endpoint without its query, never quoting the secret, the assertion,
// the token or the server's free text.
func TestClientCredentialsErrorsTellNoSecrets(t *testing.T) {
	t.Parallel()
	answers := map[string]struct {
		code int
		body string
		want string
	}{
		"refused":   {400, `{"error":"invalid_client","error_description":"bad secret s3cret-value"}`, "HTTP 400 (invalid_client)"},
		"dpop":      {200, `{"access_token":"leak-tok","token_type":"DPoP","expires_in":60}`, "token_type"},
		"no token":  {200, `{"token_type":"bearer","expires_in":60}`, "access_token"},
		"space":     {200, `{"access_token":"leak tok","token_type":"bearer","expires_in":60}`, "access_token"},
		"expiry":    {200, `{"access_token":"leak-tok","token_type":"bearer","expires_in":-5}`, "expires_in"},
		"nan":       {200, `{"access_token":"leak-tok","token_type":"bearer","expires_in":"NaN"}`, "expires_in"},
		"trailing":  {200, `{"access_token":"leak-tok","token_type":"bearer","expires_in":"60 seconds"}`, "expires_in"},
		"not json":  {200, `leak-tok`, "not a JSON"},
		"too large": {200, `{"access_token":"leak-tok","token_type":"bearer","x":"` + strings.Repeat("a", maxTokenResponseBytes) + `"}`, "larger than"},
		"redirect":  {302, ``, "HTTP 302"},
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, a := range answers {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a.code == 302 {
				w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			}
			w.WriteHeader(a.code)
			_, _ = w.Write([]byte(a.body))
		}))
		creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: srv.URL + "/token?apikey=QUERYSECRET", ClientID: "c", ClientSecretFile: secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = creds.Token(context.Background())
		srv.Close()
		if err == nil {
			t.Errorf("%s: a token was accepted", name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, a.want) || !strings.Contains(msg, "/token") {
			t.Errorf("%s: %s (want %q and the endpoint)", name, msg, a.want)
		}
		for _, leak := range []string{"s3cret", "QUERYSECRET", "leak", "apikey"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: the error tells %q: %s", name, leak, msg)
			}
		}
	}
	// Down: the dial error names no query either.
	creds, _ := NewClientCredentials(ClientCredentialsConfig{TokenURL: "http://127.0.0.1:1/token?apikey=QUERYSECRET", ClientID: "c", ClientSecretFile: secret})
	if _, err := creds.Token(context.Background()); err == nil || strings.Contains(err.Error(), "QUERYSECRET") {
		t.Errorf("token server down: %v", err)
	}
}

// TestClientCredentialsKeys: the PEM forms of an RSA or EC P-384 key are
// read (RS384, ES384); other curves, short RSA keys, and what is no key are
// refused, never quoting the file; the configuration's other mistakes are
// refused with what to fix.
func TestClientCredentialsKeys(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	pk8 := func(k any) []byte { b, _ := x509.MarshalPKCS8PrivateKey(k); return b }
	sec1 := func(k *ecdsa.PrivateKey) []byte { b, _ := x509.MarshalECPrivateKey(k); return b }
	for name, c := range map[string]struct {
		file string
		alg  jwa.SignatureAlgorithm
	}{
		"pkcs8 rsa":  {writePEM(t, "PRIVATE KEY", pk8(rsaKey)), jwa.RS384},
		"pkcs1 rsa":  {writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), jwa.RS384},
		"pkcs8 p384": {writePEM(t, "PRIVATE KEY", pk8(ecKey)), jwa.ES384},
		"sec1 p384":  {writePEM(t, "EC PRIVATE KEY", sec1(ecKey)), jwa.ES384},
	} {
		creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c", PrivateKeyFile: c.file, KeyID: "k"})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if k, err := creds.key.get(); err != nil || k.alg != c.alg {
			t.Errorf("%s: %v (alg %v, want %v)", name, err, k.alg, c.alg)
		}
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	_ = os.WriteFile(garbage, []byte("SECRETGARBAGE not a key"), 0o600)
	badBlock := writePEM(t, "PRIVATE KEY", []byte("SECRETGARBAGE"))
	for name, file := range map[string]string{
		"p256": writePEM(t, "PRIVATE KEY", pk8(p256)), "short rsa": writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(short)),
		"garbage": garbage, "bad block": badBlock, "missing": garbage + "-missing", "a directory": t.TempDir(),
	} {
		_, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c", PrivateKeyFile: file, KeyID: "k"})
		if err == nil || strings.Contains(err.Error(), "SECRETGARBAGE") || !strings.Contains(err.Error(), "private_key_file") {
			t.Errorf("%s: %v", name, err)
		}
	}
	key := writePEM(t, "PRIVATE KEY", pk8(ecKey))
	secret := filepath.Join(t.TempDir(), "secret")
	_ = os.WriteFile(secret, []byte("s"), 0o600)
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte(" \n"), 0o600)
	for name, c := range map[string]struct {
		cfg  ClientCredentialsConfig
		want string
	}{
		"no url":         {ClientCredentialsConfig{ClientID: "c", ClientSecretFile: secret}, "token_url: required"},
		"plain http":     {ClientCredentialsConfig{TokenURL: "http://ehr.example/token", ClientID: "c", ClientSecretFile: secret}, "plain http"},
		"userinfo":       {ClientCredentialsConfig{TokenURL: "https://u:PASSWORD@ehr.example/token", ClientID: "c", ClientSecretFile: secret}, "user name"},
		"no client":      {ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientSecretFile: secret}, "client_id"},
		"both":           {ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c", ClientSecretFile: secret, PrivateKeyFile: key, KeyID: "k"}, "exactly one"},
		"neither":        {ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c"}, "exactly one"},
		"no kid":         {ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c", PrivateKeyFile: key}, "key_id"},
		"kid w/o key":    {ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c", ClientSecretFile: secret, KeyID: "k"}, "key_id"},
		"empty secret":   {ClientCredentialsConfig{TokenURL: "https://ehr.example/token", ClientID: "c", ClientSecretFile: empty}, "empty"},
		"loopback http":  {ClientCredentialsConfig{TokenURL: "http://127.0.0.1:9/token", ClientID: "c", ClientSecretFile: secret}, ""},
		"localhost http": {ClientCredentialsConfig{TokenURL: "http://localhost:9/token", ClientID: "c", ClientSecretFile: secret}, ""},
	} {
		_, err := NewClientCredentials(c.cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "PASSWORD")):
			t.Errorf("%s: %v (want %q)", name, err, c.want)
		}
	}
}

// TestClientCredentialsShortLivedToken: a token whose lifetime is over
// (less the margin) by the time it arrives is still used by the requests
// that waited for it, once, instead of each fetching again and again
// until its deadline.
func TestClientCredentialsShortLivedToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"access_token":"tok-brief","token_type":"bearer","expires_in":0.000001}`))
	}))
	defer srv.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: srv.URL + "/token", ClientID: "c", ClientSecretFile: secret})
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only ends the looping the test guards against.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if tok, err := creds.Token(ctx); tok != "tok-brief" || err != nil {
		t.Errorf("Token = %q, %v", tok, err)
	}
}

// TestClientCredentialsRS384: an RSA key (PKCS#1 here) signs the client
// assertion RS384, which the token server verifies with its public key.
func TestClientCredentialsRS384(t *testing.T) {
	t.Parallel()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	ts := newTokenServer(t, &key.PublicKey, jwa.RS384)
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: ts.url(), ClientID: ts.client, Scope: ts.scope,
		PrivateKeyFile: writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), KeyID: "key-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := creds.Token(context.Background()); tok != "tok-1" || err != nil {
		t.Errorf("Token = %q, %v", tok, err)
	}
	ts.check()
}
