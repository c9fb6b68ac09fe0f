// Package authn verifies the bearer tokens of callers with
// github.com/lestrrat-go/jwx/v2 and turns their claims into a Caller: who
// asks (subject, organisation, client), what they may touch (scopes) and why
// (purposes of use, normalised to v3-ActReason codes).
//
// Keys come from a JWKS URL (cached, refreshed), a key file (JWK, JWK Set or
// PEM), or, for development, the signing key `ds4p token` keeps in the data
// directory. Tokens are never logged.
package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// AdminScope is the scope the admin API requires.
const AdminScope = "ds4p/admin"

// MaxTokenBytes bounds the size of a bearer token before it is parsed.
const MaxTokenBytes = 16 << 10

// ErrUnauthenticated wraps every verification failure; callers answer 401.
var ErrUnauthenticated = errors.New("authn: unauthenticated")

// Caller is the verified identity and intent of a request.
type Caller struct {
	Subject        string
	Org            string
	OrgIdentifiers []string
	Client         string
	Scopes         []string
	Purposes       []string
	BreakGlass     string // the stated reason when the token carries a break-glass claim
	Issuer         string
	// Patient is the SMART launch context (`patient` claim): a token that
	// carries one may reach only that patient's compartment.
	Patient string
	// IssuedAt and Expiry are the token's iat and exp (zero when absent);
	// the policy uses them to time-box break-the-glass.
	IssuedAt time.Time
	Expiry   time.Time
}

// HasScope reports whether the caller was granted scope s.
func (c Caller) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

// allowedAlgs is the signature algorithm allowlist: asymmetric only, never
// "none", never HMAC (a public key must not double as an HMAC secret).
var allowedAlgs = map[jwa.SignatureAlgorithm]bool{
	jwa.RS256: true, jwa.RS384: true, jwa.RS512: true,
	jwa.PS256: true, jwa.PS384: true, jwa.PS512: true,
	jwa.ES256: true, jwa.ES384: true, jwa.ES512: true,
	jwa.EdDSA: true,
}

// Config says where keys come from and what claims must hold.
type Config struct {
	JWKSURL  string
	KeyFile  string
	DevKeys  jwk.Set // public keys of the development signer; nil unless --dev-auth
	Issuer   string  // required iss; empty accepts any issuer
	Audience string  // required aud; empty accepts any audience
	Skew     time.Duration
	// CacheSize bounds the verified-token cache (DefaultCacheSize when 0;
	// negative disables it).
	CacheSize int
}

// Verifier checks bearer tokens.
type Verifier struct {
	sets     []jwk.Set
	issuer   string
	audience string
	skew     time.Duration
	cache    *tokenCache
}

// NewVerifier builds a verifier from cfg; at least one key source is needed.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, skew: cfg.Skew}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newTokenCache(DefaultCacheSize, DefaultCacheTTL)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize, DefaultCacheTTL)
	}
	if cfg.JWKSURL != "" {
		cache := jwk.NewCache(ctx)
		if err := cache.Register(cfg.JWKSURL, jwk.WithMinRefreshInterval(5*time.Minute)); err != nil {
			return nil, fmt.Errorf("authn: registering JWKS URL: %w", err)
		}
		v.sets = append(v.sets, jwk.NewCachedSet(cache, cfg.JWKSURL))
	}
	if cfg.KeyFile != "" {
		set, err := readKeyFile(cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		v.sets = append(v.sets, set)
	}
	if cfg.DevKeys != nil {
		v.sets = append(v.sets, cfg.DevKeys)
	}
	if len(v.sets) == 0 {
		return nil, errors.New("authn: no key source configured (JWKS URL, key file or dev auth)")
	}
	return v, nil
}

func readKeyFile(path string) (jwk.Set, error) {
	set, err := jwk.ReadFile(path)
	if err != nil {
		set, err = jwk.ReadFile(path, jwk.WithPEM(true))
	}
	if err != nil {
		return nil, fmt.Errorf("authn: reading key file %s: %w", path, err)
	}
	return publicOnly(set)
}

// Verify checks the token's signature against the configured keys and its
// time and audience claims, and returns the caller it names.
func (v *Verifier) Verify(ctx context.Context, raw string) (Caller, error) {
	if len(raw) == 0 || len(raw) > MaxTokenBytes {
		return Caller{}, fmt.Errorf("%w: token missing or too large", ErrUnauthenticated)
	}
	if c, ok := v.cache.get(raw); ok {
		return c, nil
	}
	if err := checkAlg(raw); err != nil {
		return Caller{}, err
	}
	var lastErr error
	for _, set := range v.sets {
		tok, err := jwt.ParseString(raw, v.parseOptions(ctx, set)...)
		if err != nil {
			lastErr = err
			continue
		}
		c, err := callerFrom(tok)
		if err != nil {
			return Caller{}, err
		}
		nbf := tok.NotBefore()
		if !nbf.IsZero() {
			nbf = nbf.Add(-v.skew)
		}
		v.cache.put(raw, c, nbf, tok.Expiration().Add(v.skew))
		return c, nil
	}
	return Caller{}, fmt.Errorf("%w: %v", ErrUnauthenticated, lastErr)
}

func (v *Verifier) parseOptions(ctx context.Context, set jwk.Set) []jwt.ParseOption {
	opts := []jwt.ParseOption{
		jwt.WithContext(ctx),
		jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true), jws.WithRequireKid(false)),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(v.skew),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	return opts
}

// checkAlg refuses a token whose header names an algorithm outside the
// allowlist before any key is tried.
func checkAlg(raw string) error {
	msg, err := jws.ParseString(raw)
	if err != nil {
		return fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return fmt.Errorf("%w: want exactly one signature", ErrUnauthenticated)
	}
	if alg := sigs[0].ProtectedHeaders().Algorithm(); !allowedAlgs[alg] {
		return fmt.Errorf("%w: algorithm %q not allowed", ErrUnauthenticated, alg)
	}
	return nil
}

func callerFrom(tok jwt.Token) (Caller, error) {
	c := Caller{Subject: tok.Subject(), Issuer: tok.Issuer()}
	c.Org = stringClaim(tok, "org")
	c.Client = firstNonEmpty(stringClaim(tok, "client_id"), stringClaim(tok, "azp"))
	c.Scopes = strings.Fields(stringClaim(tok, "scope"))
	c.OrgIdentifiers = stringsClaim(tok, "org_identifiers")
	c.Purposes = Purposes(tok)
	c.BreakGlass = stringClaim(tok, "break_glass_reason")
	c.Patient = stringClaim(tok, "patient")
	c.IssuedAt, c.Expiry = tok.IssuedAt(), tok.Expiration()
	if c.Subject == "" {
		return Caller{}, fmt.Errorf("%w: token has no subject", ErrUnauthenticated)
	}
	return c, nil
}

func stringClaim(tok jwt.Token, name string) string {
	v, ok := tok.Get(name)
	if !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

func stringsClaim(tok jwt.Token, name string) []string {
	v, ok := tok.Get(name)
	if !ok {
		return nil
	}
	return toStrings(v)
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
