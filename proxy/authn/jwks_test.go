package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// issuer is a JWKS endpoint whose keys can be rotated; it counts fetches.
type issuer struct {
	mu      sync.Mutex
	keys    map[string]jwk.Key // kid -> private key
	publish []string           // kids in the published set
	fetches atomic.Int32
	srv     *httptest.Server
	body    func() []byte // overrides the published body when set
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	is := &issuer{keys: map[string]jwk.Key{}}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		if is.body != nil {
			_, _ = w.Write(is.body())
			return
		}
		set := jwk.NewSet()
		for _, kid := range is.publish {
			pub, _ := is.keys[kid].PublicKey()
			_ = set.AddKey(pub)
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

// addKey makes a key named kid; publish puts it in the served set.
func (is *issuer) addKey(t *testing.T, kid string, publish bool) {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := jwk.FromRaw(raw)
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, jwa.ES256)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys[kid] = k
	if publish {
		is.publish = append(is.publish, kid)
	}
}

// publicSet is the published keys as a JWK Set document.
func (is *issuer) publicSet(t *testing.T) []byte {
	t.Helper()
	is.mu.Lock()
	defer is.mu.Unlock()
	set := jwk.NewSet()
	for _, kid := range is.publish {
		pub, _ := is.keys[kid].PublicKey()
		_ = set.AddKey(pub)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rotate publishes exactly kids.
func (is *issuer) rotate(kids ...string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.publish = kids
}

func (is *issuer) token(t *testing.T, kid string) string {
	t.Helper()
	is.mu.Lock()
	k := is.keys[kid]
	is.mu.Unlock()
	tok, _ := jwt.NewBuilder().Issuer("https://idp").Audience([]string{"ds4p"}).Subject("s-" + kid).
		IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).Build()
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, k))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func jwksVerifier(t *testing.T, is *issuer) (*Verifier, *fakeClock) {
	t.Helper()
	v, err := NewVerifier(context.Background(), Config{
		JWKSURL: is.srv.URL, Issuer: "https://idp", Audience: "ds4p", Skew: 5 * time.Second,
		JWKSMinRefresh: 30 * time.Second, JWKSMaxAge: 10 * time.Minute,
		CacheSize: -1, // every Verify goes to the key source
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now()}
	v.jwks.now = clock.Now
	return v, clock
}

func TestJWKSCachedRotatedAndRateLimited(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "k1", true)
	is.addKey(t, "k2", false) // the next key, not yet published
	v, clock := jwksVerifier(t, is)
	ctx := context.Background()

	// Cached: many verifications, one fetch.
	for range 5 {
		if _, err := v.Verify(ctx, is.token(t, "k1")); err != nil {
			t.Fatalf("k1: %v", err)
		}
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches after 5 verifications = %d, want 1", n)
	}

	// k2 is not published: one forced refresh, then refused.
	if _, err := v.Verify(ctx, is.token(t, "k2")); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unpublished key accepted: %v", err)
	}
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("fetches after an unknown kid = %d, want 2", n)
	}

	// Rotation: k2 published, k1 withdrawn. Within the rate limit the new
	// key is not fetched yet: the token is refused and nothing is fetched.
	is.rotate("k2")
	for range 10 {
		if _, err := v.Verify(ctx, is.token(t, "k2")); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("refresh not rate-limited: %v", err)
		}
	}
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("fetches within the refresh interval = %d, want 2", n)
	}

	// After the interval one forced refresh picks up k2.
	clock.advance(31 * time.Second)
	if c, err := v.Verify(ctx, is.token(t, "k2")); err != nil || c.Subject != "s-k2" {
		t.Fatalf("rotated key: %v %v", c, err)
	}
	if n := is.fetches.Load(); n != 3 {
		t.Fatalf("fetches after rotation = %d, want 3", n)
	}
	// k1 was withdrawn: its tokens now fail (k1 is a kid the set lacks, but
	// the rate limit allows no new fetch).
	if _, err := v.Verify(ctx, is.token(t, "k1")); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("withdrawn key still accepted: %v", err)
	}
	if n := is.fetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}

	// A flood of made-up kids after the interval costs exactly one fetch.
	clock.advance(31 * time.Second)
	is.addKey(t, "evil", false)
	for range 20 {
		_, _ = v.Verify(ctx, is.token(t, "evil"))
	}
	if n := is.fetches.Load(); n != 4 {
		t.Fatalf("fetches after a kid flood = %d, want 4", n)
	}

	// The set is re-fetched once it is older than its max age.
	clock.advance(10 * time.Minute)
	if _, err := v.Verify(ctx, is.token(t, "k2")); err != nil {
		t.Fatal(err)
	}
	if n := is.fetches.Load(); n != 5 {
		t.Fatalf("fetches after max age = %d, want 5", n)
	}
}

func TestJWKSRefusesOversizedAndKeepsOldSetOnOutage(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "k1", true)
	v, clock := jwksVerifier(t, is)
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.token(t, "k1")); err != nil {
		t.Fatal(err)
	}
	// The issuer starts serving garbage larger than the cap: the scheduled
	// refresh fails, the previous set keeps serving within the grace time.
	is.mu.Lock()
	is.body = func() []byte { return []byte(`{"keys":[` + strings.Repeat(" ", MaxJWKSBytes) + `]}`) }
	is.mu.Unlock()
	clock.advance(11 * time.Minute)
	if _, err := v.Verify(ctx, is.token(t, "k1")); err != nil {
		t.Fatalf("a failed refresh dropped the previous keys: %v", err)
	}
	// Beyond the grace time, nothing is trusted any more: no keys to
	// check with (503 at the edge, not a 401 that blames the token).
	clock.advance(2 * time.Hour)
	if _, err := v.Verify(ctx, is.token(t, "k1")); !errors.Is(err, ErrKeysUnavailable) || !strings.Contains(err.Error(), is.srv.URL) {
		t.Fatalf("keys trusted long after the issuer failed, or the failure not named: %v", err)
	}
	if err := v.ReadyCheck(ctx); err == nil {
		t.Fatal("readiness passed without a usable JWKS")
	}
}

// TestJWKSDownIsUnavailableNotUnauthenticated: an issuer whose JWKS cannot
// be reached makes tokens unverifiable, which is not the token's fault;
// readiness says so, and with another key source it only warns.
func TestJWKSDownIsUnavailableNotUnauthenticated(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "k1", true)
	tok := is.token(t, "k1")
	v, _ := jwksVerifier(t, is)
	is.srv.Close()
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("Verify with the JWKS down: %v", err)
	}
	var d interface{ Degraded() bool }
	if err := v.ReadyCheck(ctx); err == nil || errors.As(err, &d) {
		t.Fatalf("ReadyCheck with the JWKS as the only key source: %v", err)
	}
	keyFile := filepath.Join(t.TempDir(), "keys.jwk")
	if err := os.WriteFile(keyFile, is.publicSet(t), 0o600); err != nil {
		t.Fatal(err)
	}
	both, err := NewVerifier(ctx, Config{JWKSURL: is.srv.URL, KeyFile: keyFile, Issuer: "https://idp", Audience: "ds4p", CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := both.ReadyCheck(ctx); !errors.As(err, &d) || !d.Degraded() {
		t.Fatalf("ReadyCheck with a key file beside the JWKS: %v", err)
	}
	if _, err := both.Verify(ctx, tok); err != nil {
		t.Fatalf("the key file's key does not verify while the JWKS is down: %v", err)
	}
}

func TestJWKSFirstFetchOversizedRefused(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "k1", true)
	is.body = func() []byte { return []byte(strings.Repeat("x", MaxJWKSBytes+10)) }
	v, _ := jwksVerifier(t, is)
	if _, err := v.Verify(context.Background(), is.token(t, "k1")); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("token accepted without a usable JWKS, or not as keys unavailable: %v", err)
	}
}

// TestJWKSFetchDoesNotBlockKnownKeys: while a forced fetch for an unknown kid
// hangs on a slow issuer, tokens signed with a known key still verify.
func TestJWKSFetchDoesNotBlockKnownKeys(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	is.addKey(t, "k1", true)
	is.addKey(t, "k9", false)
	v, _ := jwksVerifier(t, is)
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.token(t, "k1")); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	entered := make(chan struct{})
	is.mu.Lock()
	is.body = func() []byte {
		close(entered)
		is.mu.Unlock() // let the test use the issuer while this fetch hangs
		<-release
		is.mu.Lock()
		return []byte(`{"keys":[]}`)
	}
	is.mu.Unlock()
	forced := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, is.token(t, "k9")); forced <- err }()
	<-entered
	done := make(chan error, 1)
	k1 := is.token(t, "k1")
	go func() { _, err := v.Verify(ctx, k1); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("known key during a fetch: %v", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("a known key waited for the issuer")
	}
	close(release)
	if err := <-forced; !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unknown kid: %v", err)
	}
}
