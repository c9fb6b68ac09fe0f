package authn

import (
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"
)

// Defaults of the verified-token cache.
const (
	DefaultCacheSize = 10000
	// DefaultCacheTTL bounds how long a verification is reused even when the
	// token lives longer, so that a key withdrawn from the JWKS stops being
	// honoured soon after.
	DefaultCacheTTL = 5 * time.Minute
)

// tokenCache remembers verified tokens by the SHA-256 of their raw bytes:
// verifying an ES256 or RS256 signature costs far more than the rest of a
// small read. An entry is reused only within the token's own nbf..exp
// window (with the verifier's skew) and the cache TTL.
type tokenCache struct {
	mu   sync.Mutex
	max  int
	ttl  time.Duration
	now  func() time.Time
	seen map[[32]byte]cachedCaller
}

type cachedCaller struct {
	caller     Caller
	notBefore  time.Time // zero: none
	validUntil time.Time // the earlier of exp+skew and insertion+TTL
}

func newTokenCache(max int, ttl time.Duration) *tokenCache {
	return &tokenCache{max: max, ttl: ttl, now: time.Now, seen: make(map[[32]byte]cachedCaller)}
}

// tokenKey is the cache's key of raw: its SHA-256, read from the string's
// own bytes (Sum256 only reads them); converting it to []byte put a copy
// of the token on the heap for every request.
func tokenKey(raw string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
}

func (c *tokenCache) get(raw string) (Caller, bool) {
	if c == nil {
		return Caller{}, false
	}
	key := tokenKey(raw)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.seen[key]
	if !ok {
		return Caller{}, false
	}
	if now.After(e.validUntil) || (!e.notBefore.IsZero() && now.Before(e.notBefore)) {
		delete(c.seen, key)
		return Caller{}, false
	}
	return e.caller, true
}

func (c *tokenCache) put(raw string, caller Caller, notBefore, expires time.Time) {
	if c == nil {
		return
	}
	now := c.now()
	until := now.Add(c.ttl)
	if !expires.IsZero() && expires.Before(until) {
		until = expires
	}
	key := tokenKey(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= c.max {
		c.evict(now)
	}
	c.seen[key] = cachedCaller{caller: caller, notBefore: notBefore, validUntil: until}
}

// evict drops expired entries, and everything if that frees nothing: a
// bounded map matters more than keeping hot entries under a token flood.
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.seen {
		if now.After(e.validUntil) {
			delete(c.seen, k)
		}
	}
	if len(c.seen) >= c.max {
		clear(c.seen)
	}
}
