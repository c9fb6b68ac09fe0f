package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/urltext"
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
	// noSetRetry bounds fetch attempts while no key set was ever fetched.
	noSetRetry = 5 * time.Second
)

// jwksSource is one JWKS URL: fetched on first use, re-fetched when older
// than maxAge, and re-fetched on demand for an unknown key id at most once
// per minRefresh (key rotation: the issuer publishes a new key, tokens
// signed with it arrive, the set is fetched again).
type jwksSource struct {
	url        string
	name       string // url without userinfo, query and fragment: for messages (urltext.URL)
	client     *http.Client
	maxAge     time.Duration
	minRefresh time.Duration
	now        func() time.Time

	fetchMu   sync.Mutex // one fetch at a time
	mu        sync.Mutex // the fields below
	set       jwk.Set
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last fetch attempt of any kind
	forcedAt  time.Time // last fetch forced by an unknown kid
	fetches   int
	lastErr   error // of the last fetch attempt; nil after a good one
}

func newJWKSSource(url string, client *http.Client, maxAge, minRefresh time.Duration) *jwksSource {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	client = noDowngrade(client)
	if maxAge <= 0 {
		maxAge = DefaultJWKSMaxAge
	}
	if minRefresh <= 0 {
		minRefresh = DefaultJWKSMinRefresh
	}
	return &jwksSource{url: url, name: urltext.URL(url), client: client, maxAge: maxAge, minRefresh: minRefresh, now: time.Now}
}

// noDowngrade is a copy of client that refuses a redirect from https to
// plain http: an https JWKS URL trusts the issuer TLS authenticates, and
// whoever answers on a plain http leg chooses the keys tokens are checked
// with, so mints any token (QA round 41, helper D; the policy bundle's
// fetch refuses it too). The error does not name the target (its query
// may carry credentials).
func noDowngrade(client *http.Client) *http.Client {
	c := *client
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		for _, r := range via {
			if r.URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("the JWKS server redirected from https to plain http, where anyone on the network path could answer with their own keys: serve it over https throughout")
			}
		}
		// A plain http JWKS URL is taken as safe (serve does not warn)
		// when its host is a loopback one: a redirect from there, or from
		// the configured host, to plain http on another host that is not
		// one leaves the machine unencrypted (QA round 41, helper G).
		if req.URL.Scheme != "https" && len(via) > 0 && req.URL.Host != via[0].URL.Host && !loopbackHost(req.URL.Hostname()) {
			return errors.New("the JWKS server redirected to plain http on another host, where anyone on the network path could answer with their own keys: serve it over https")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// keys returns the current set for a token naming kid (may be empty). An
// unknown kid forces a refresh when the rate limit allows one. Only one
// fetch runs at a time, outside the state lock: while it runs, callers that
// already have a set go on with it instead of waiting.
func (s *jwksSource) keys(ctx context.Context, kid string) (jwk.Set, error) {
	now := s.now()
	s.mu.Lock()
	set, fetchedAt, forcedAt, tried := s.set, s.fetchedAt, s.forcedAt, !s.triedAt.IsZero()
	s.mu.Unlock()
	switch {
	case set == nil || now.Sub(fetchedAt) >= s.maxAge:
		// Only the first fetch is waited for: once one failed, a retry
		// runs for the request that makes it, and every other request
		// of the moment answers without keys (503) instead of waiting
		// out a hanging issuer's timeout behind it.
		s.refresh(ctx, now, set == nil && !tried, false)
	case kid != "":
		if _, ok := set.LookupKeyID(kid); !ok && (forcedAt.IsZero() || now.Sub(forcedAt) >= s.minRefresh) {
			s.refresh(ctx, now, false, true)
		}
	}
	s.mu.Lock()
	set, fetchedAt = s.set, s.fetchedAt
	s.mu.Unlock()
	// A failed scheduled refresh keeps the previous set for a while: a
	// short issuer outage must not lock every caller out.
	if set == nil || now.Sub(fetchedAt) > s.maxAge+jwksFailureGrace {
		s.mu.Lock()
		last := s.lastErr
		s.mu.Unlock()
		if last == nil {
			last = errors.New("no key set fetched yet")
		}
		return nil, fmt.Errorf("authn: JWKS %s not available: %w", s.name, last)
	}
	return set, nil
}

// refresh fetches the set unless another fetch runs (wait: block for it,
// for the first fetch of all) or the rate limits say no: a forced refresh at
// most once per minRefresh, a scheduled one at most once per minRefresh
// after a failure (noSetRetry while there is no set at all).
func (s *jwksSource) refresh(ctx context.Context, now time.Time, wait, forced bool) {
	if wait {
		s.fetchMu.Lock()
	} else if !s.fetchMu.TryLock() {
		return
	}
	defer s.fetchMu.Unlock()
	s.mu.Lock()
	switch {
	case forced:
		if !s.forcedAt.IsZero() && now.Sub(s.forcedAt) < s.minRefresh {
			s.mu.Unlock()
			return
		}
		s.forcedAt = now
	case s.set == nil:
		if !s.triedAt.IsZero() && now.Sub(s.triedAt) < min(s.minRefresh, noSetRetry) {
			s.mu.Unlock()
			return
		}
	default:
		if now.Sub(s.fetchedAt) < s.maxAge || now.Sub(s.triedAt) < s.minRefresh {
			s.mu.Unlock()
			return // fresh after all, or failed a moment ago
		}
	}
	s.triedAt = now
	s.fetches++
	s.mu.Unlock()
	set, err := s.download(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if err != nil {
		return
	}
	s.set, s.fetchedAt = set, now
}

// download fetches and parses the JWKS, keeping public asymmetric keys.
func (s *jwksSource) download(ctx context.Context) (jwk.Set, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, errors.New("authn: JWKS request: the URL does not parse") // its error quotes it
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		// Not the *url.Error whole: it names the URL, credentials in its
		// userinfo or query included, and /readyz, which needs no sign-in,
		// shows this error (QA round 21).
		// A URL withheld from messages (urltext.URL: where its credentials
		// end is ambiguous) is withheld from the dial's error too, which
		// names the host the client took, part of the credentials then
		// ("lookup idp-user: no such host" for http://idp-user:12/pw@idp).
		var ue *url.Error
		switch {
		case s.name == urltext.Withheld:
			err = fmt.Errorf("GET %s: the request failed (its error is withheld with the URL)", s.name)
		case errors.As(err, &ue):
			err = fmt.Errorf("%s %s: %w", ue.Op, s.name, ue.Err)
		}
		return nil, fmt.Errorf("authn: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("authn: fetching JWKS: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("authn: reading JWKS: %w", err)
	}
	if len(b) > MaxJWKSBytes {
		return nil, errors.New("authn: JWKS document too large")
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("authn: parsing JWKS: %w", err)
	}
	asym := jwk.NewSet()
	for i := 0; i < set.Len(); i++ {
		if k, _ := set.Key(i); k.KeyType() != "oct" { // a symmetric key is never trusted
			_ = asym.AddKey(k)
		}
	}
	return publicOnly(asym)
}

// Fetches reports how many times the source fetched its URL (for tests and
// metrics).
func (s *jwksSource) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// loopbackHost reports whether h is localhost or a loopback address.
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
