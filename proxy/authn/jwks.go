package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Defaults of a JWKS source.
const (
	// DefaultJWKSMaxAge is how long a fetched key set is used before it is
	// fetched again.
	DefaultJWKSMaxAge = 5 * time.Minute
	// DefaultJWKSMinRefresh bounds forced refreshes: a token naming a key id
	// the set does not hold triggers at most one fetch per this interval, so
	// a flood of made-up key ids cannot turn the proxy against the issuer.
	DefaultJWKSMinRefresh = 30 * time.Second
	// MaxJWKSBytes caps a JWKS document.
	MaxJWKSBytes = 1 << 20
	// jwksFailureGrace is how long a key set stays usable when the issuer
	// cannot be reached for a scheduled refresh.
	jwksFailureGrace = time.Hour
)

// jwksSource is one JWKS URL: fetched on first use, re-fetched when older
// than maxAge, and re-fetched on demand for an unknown key id at most once
// per minRefresh (key rotation: the issuer publishes a new key, tokens
// signed with it arrive, the set is fetched again).
type jwksSource struct {
	url        string
	client     *http.Client
	maxAge     time.Duration
	minRefresh time.Duration
	now        func() time.Time

	mu        sync.Mutex
	set       jwk.Set
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last fetch attempt of any kind
	forcedAt  time.Time // last fetch forced by an unknown kid
	fetches   int
}

func newJWKSSource(url string, client *http.Client, maxAge, minRefresh time.Duration) *jwksSource {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if maxAge <= 0 {
		maxAge = DefaultJWKSMaxAge
	}
	if minRefresh <= 0 {
		minRefresh = DefaultJWKSMinRefresh
	}
	return &jwksSource{url: url, client: client, maxAge: maxAge, minRefresh: minRefresh, now: time.Now}
}

// keys returns the current set for a token naming kid (may be empty). An
// unknown kid forces a refresh when the rate limit allows one.
func (s *jwksSource) keys(ctx context.Context, kid string) (jwk.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	stale := s.set == nil || now.Sub(s.fetchedAt) >= s.maxAge
	if stale && (s.set == nil || now.Sub(s.triedAt) >= s.minRefresh) {
		if err := s.fetch(ctx, now); err != nil {
			if s.set == nil || now.Sub(s.fetchedAt) > s.maxAge+jwksFailureGrace {
				return nil, err
			}
			// keep using the previous set for a while: a short issuer
			// outage must not lock every caller out.
		}
	}
	if s.set == nil {
		return nil, errors.New("authn: JWKS not available")
	}
	if kid == "" {
		return s.set, nil
	}
	if _, ok := s.set.LookupKeyID(kid); ok {
		return s.set, nil
	}
	if !s.forcedAt.IsZero() && now.Sub(s.forcedAt) < s.minRefresh {
		return s.set, nil // rate-limited: the token will fail against the current keys
	}
	s.forcedAt = now
	if err := s.fetch(ctx, now); err != nil {
		return s.set, nil
	}
	return s.set, nil
}

// fetch replaces the set; s.mu is held. A failed fetch keeps the old set.
func (s *jwksSource) fetch(ctx context.Context, now time.Time) error {
	s.triedAt = now
	s.fetches++
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("authn: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("authn: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("authn: fetching JWKS: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("authn: reading JWKS: %w", err)
	}
	if len(b) > MaxJWKSBytes {
		return errors.New("authn: JWKS document too large")
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return fmt.Errorf("authn: parsing JWKS: %w", err)
	}
	asym := jwk.NewSet()
	for i := 0; i < set.Len(); i++ {
		if k, _ := set.Key(i); k.KeyType() != "oct" { // a symmetric key is never trusted
			_ = asym.AddKey(k)
		}
	}
	pub, err := publicOnly(asym)
	if err != nil {
		return err
	}
	s.set, s.fetchedAt = pub, now
	return nil
}

// Fetches reports how many times the source fetched its URL (for tests and
// metrics).
func (s *jwksSource) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}
