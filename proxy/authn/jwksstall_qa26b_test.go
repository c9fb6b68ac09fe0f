package authn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// While the issuer's JWKS was never fetched and hangs, one request waits
// for the fetch and every other one answers at once (keys unavailable,
// 503) instead of queueing behind it: each retry after noSetRetry made
// every request of the moment wait out the fetch's timeout (10 s), a
// stall of the whole proxy for as long as the issuer hangs (QA round 26,
// area B). The very first fetch is still waited for.
func TestJWKSRetryWithoutKeysDoesNotStallEveryone(t *testing.T) {
	t.Parallel()
	var mode atomic.Int32 // 0: fail at once; 1: hang until released
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if mode.Load() == 1 {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	v, err := NewVerifier(context.Background(), Config{JWKSURL: srv.URL, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now()}
	v.jwks.now = clock.Now
	is := newIssuer(t)
	is.addKey(t, "k1", true)
	tok := is.token(t, "k1")
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("first fetch failed: %v", err)
	}
	clock.advance(noSetRetry + time.Second)
	mode.Store(1)
	first := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, tok); first <- err }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no retry was made")
	}
	other := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, tok); other <- err }()
	select {
	case err := <-other:
		if !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("a request beside the hanging retry: %v, want keys unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request waited for another's retry of a hanging JWKS")
	}
	if got := v.jwks.Fetches(); got != 2 {
		t.Errorf("fetches = %d, want 2", got)
	}
}
