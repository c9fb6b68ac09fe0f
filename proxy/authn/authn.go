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
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/ds4p/ds4p/internal/textcut"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/ds4p/ds4p/internal/fhirsearch"
	"github.com/ds4p/ds4p/internal/fjson"
)

// Admin roles: scopes for the admin API, distinct from the SMART scopes of
// the FHIR API. Each role reaches only its own endpoints; there is no
// all-roles operator scope (least privilege: an operator token that needs
// several roles carries several scopes).
const (
	// ConsentManagerScope: /admin/Consent (create, update, read, search,
	// history, $revoke).
	ConsentManagerScope = "ds4p/consent-manager"
	// PolicyAuthorScope: /admin/policy and /admin/decide.
	PolicyAuthorScope = "ds4p/policy-author"
	// AuditorScope: /admin/audit and /admin/alerts (bulk-access alerts).
	AuditorScope = "ds4p/auditor"
)

// MaxTokenBytes bounds the size of a bearer token before it is parsed.
const MaxTokenBytes = 16 << 10

// ErrUnauthenticated wraps every verification failure; callers answer 401.
var ErrUnauthenticated = errors.New("authn: unauthenticated")

// ErrKeysUnavailable says that no key source could give keys to check a
// token with (the issuer's JWKS is down and no usable set is cached): the
// token was not judged, so callers answer 503, not 401.
var ErrKeysUnavailable = errors.New("authn: token signing keys unavailable")

// Caller is the verified identity and intent of a request.
type Caller struct {
	// Subject is the token's sub, without the blanks and invisible
	// characters around it and the invisible ones inside (trimBlank).
	Subject string
	// Org is the org claim read as orgRef reads it: a plain FHIR id as
	// sent, system|value, or Type/id (from Type/id/_history/v or an
	// absolute URL of one too).
	Org string
	// OrgURL is the org claim as given when it is an absolute URL: the
	// proxy accepts the token only when the URL lies below the FHIR base
	// it serves or fronts (another server's Organization/org-b is not
	// this one's).
	OrgURL         string
	OrgIdentifiers []string
	Client         string
	Scopes         []string
	Purposes       []string
	BreakGlass     string // the stated reason when the token carries a break-glass claim
	// OrgName and OrgAddress are the recipient organisation's name and
	// postal or electronic address when the token states them (claims
	// org_name and org_address by default): the accounting of disclosures
	// (42 CFR 2.24/2.25) names the recipient with them.
	OrgName    string
	OrgAddress string
	Issuer     string
	// Patient is the SMART launch context (`patient` claim): a token that
	// carries one may reach only that patient's compartment.
	Patient string
	// PatientIdentifier is a patient claim given as a logical identifier
	// ("system|value") instead of an id; Patient is then empty until the
	// proxy resolves the identifier to one upstream Patient (or refuses
	// the token).
	PatientIdentifier string
	// FHIRUser is the SMART fhirUser claim (the user's own FHIR resource)
	// as a relative reference, Type/id: "Patient/p1" when the patient
	// signed in. Empty when the token has none, or when it is not a
	// reference to a Patient, Practitioner, PractitionerRole,
	// RelatedPerson or Person with a plain id. The policy decides a
	// patient's access to their own record with it.
	FHIRUser string
	// FHIRUserURL is the fhirUser claim as given when it is an absolute
	// URL: the proxy counts FHIRUser only when the URL lies below the FHIR
	// base it serves or fronts (a patient of another server with the same
	// id is not this one).
	FHIRUserURL string
	// PatientUser is true when the fhirUser claim names a Patient, in a
	// form FHIRUser keeps or not: the user signed in is a patient, whose
	// token the proxy binds to that patient's compartment when it has no
	// patient claim (proxy/edge.go bindPatientUser). So is a token with no
	// patient context whose fhirUser claim FHIRUserRef cannot read: who it
	// names may be a patient, and with nothing to bind it to it is
	// refused.
	PatientUser bool
	// PersonUser is true when the fhirUser claim names a RelatedPerson or
	// a Person, in a form FHIRUser keeps or not (another server's, one
	// FHIRUserRef cannot read): someone acting for a patient, not medical
	// personnel, whose break-the-glass claim the proxy ignores. So is a
	// fhirUser claim no reading names a type of (an array, an object, a
	// spelling with no type segment): nobody known to be medical personnel.
	PersonUser bool
	// IssuedAt and Expiry are the token's iat and exp (zero when absent);
	// the policy uses them to time-box break-the-glass.
	IssuedAt time.Time
	Expiry   time.Time
	// azp is the token's azp claim when its client_id names a client too
	// (Client is then the client_id): BindClient holds both to the client
	// certificate.
	azp string
	// certThumbprint is the token's cnf "x5t#S256" (RFC 8705), padding
	// removed: the token is bound to the client certificate with that
	// SHA-256 thumbprint, and BindClient refuses it over any other
	// connection. "" for a token that is not certificate-bound.
	certThumbprint string
	// badCnf: the token has a cnf claim that is not an object with a
	// string x5t#S256, or none: it cannot be held to a certificate.
	badCnf bool
	// limits is the verifier that read the token: BindClient limits the
	// purposes (Config.ClientPurposes) for the client a certificate names
	// when the token names none. nil for a caller no Verifier made.
	limits *Verifier
}

// HasScope reports whether the caller was granted scope s.
func (c Caller) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

// PatientSide reports whether the token's user is, or may be, the patient
// (or someone acting for them), whose subject is then their own login at
// the identity provider: logs and security events leave it out. A patient
// user (fhirUser names a Patient) or a token bound by a patient identifier
// is; a token with a patient launch context is too, unless its fhirUser
// names a clinician (a SMART EHR launch: Practitioner or
// PractitionerRole), whose subject security review needs (who broke the
// glass). So is a RelatedPerson's or Person's (PersonUser), who acts for
// a patient, with a patient claim or not: the edge refuses one without
// (refuseUnboundPerson), but the console's sign-in asks only this.
func (c Caller) PatientSide() bool {
	if c.PatientUser || c.PersonUser || c.PatientIdentifier != "" {
		return true
	}
	if c.Patient == "" {
		return false
	}
	typ, _, _ := strings.Cut(c.FHIRUser, "/")
	return typ != "Practitioner" && typ != "PractitionerRole"
}

// allowedAlgs is the signature algorithm allowlist: asymmetric only, never
// "none", never HMAC (a public key must not double as an HMAC secret).
var allowedAlgs = map[jwa.SignatureAlgorithm]bool{
	jwa.RS256: true, jwa.RS384: true, jwa.RS512: true,
	jwa.PS256: true, jwa.PS384: true, jwa.PS512: true,
	jwa.ES256: true, jwa.ES384: true, jwa.ES512: true,
	jwa.EdDSA: true,
}

// knownAlgs are the registered JWS algorithm names (RFC 7518, RFC 8037,
// RFC 8812) a refusal may name; any other "alg" is text of the caller's.
var knownAlgs = map[string]bool{
	"none": true, "HS256": true, "HS384": true, "HS512": true,
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "ES256K": true, "EdDSA": true, "Ed25519": true, "Ed448": true,
}

// Config says where keys come from and what claims must hold.
type Config struct {
	JWKSURL  string
	KeyFile  string
	DevKeys  jwk.Set // public keys of the development signer; nil unless --dev-auth
	Issuer   string  // required iss; empty accepts any issuer
	Audience string  // required aud; empty accepts any audience
	Skew     time.Duration
	// Claims names the claims a caller is read from (DefaultClaims when
	// zero).
	Claims ClaimNames
	// JWKSMaxAge and JWKSMinRefresh tune the JWKS source (defaults
	// DefaultJWKSMaxAge, DefaultJWKSMinRefresh); JWKSClient fetches it
	// (a 10 s client when nil).
	JWKSMaxAge     time.Duration
	JWKSMinRefresh time.Duration
	JWKSClient     *http.Client
	// CacheSize bounds the verified-token cache (DefaultCacheSize when 0;
	// negative disables it).
	CacheSize int
	// ClientPurposes names, per client (client_id or azp), the purposes of
	// use its tokens may state; a purpose outside its list counts as
	// NotAllowedPurpose, which no policy knows. A client not named may
	// state any (the identity provider decides).
	ClientPurposes map[string][]string
}

// NotAllowedPurpose replaces a purpose of use the caller's client may not
// state (Config.ClientPurposes): an unknown purpose, so the policy discloses
// no restricted data for it, never one the client was not given.
const NotAllowedPurpose = "(not allowed for this client)"

// ClaimNames says which claims carry what. Each purpose claim is a path of
// object keys separated by dots (e.g. "ihe_iua.purpose_of_use").
type ClaimNames struct {
	Purposes       []string
	Org            string
	OrgIdentifiers string
	BreakGlass     string
	OrgName        string
	OrgAddress     string
}

// DefaultPurposeClaims are the purpose-of-use claims read by default: plain,
// IHE IUA, and UDAP B2B (top level and under "extensions").
var DefaultPurposeClaims = []string{
	"purpose_of_use",
	"ihe_iua.purpose_of_use",
	"hl7-b2b.purpose_of_use",
	"extensions.hl7-b2b.purpose_of_use",
}

// DefaultClaims are the claim names used when Config.Claims is empty.
func DefaultClaims() ClaimNames {
	return ClaimNames{
		Purposes:       slices.Clone(DefaultPurposeClaims),
		Org:            "org",
		OrgIdentifiers: "org_identifiers",
		BreakGlass:     "break_glass_reason",
		OrgName:        "org_name",
		OrgAddress:     "org_address",
	}
}

func (n ClaimNames) withDefaults() ClaimNames {
	d := DefaultClaims()
	if len(n.Purposes) == 0 {
		n.Purposes = d.Purposes
	}
	if n.Org == "" {
		n.Org = d.Org
	}
	if n.OrgIdentifiers == "" {
		n.OrgIdentifiers = d.OrgIdentifiers
	}
	if n.OrgName == "" {
		n.OrgName = d.OrgName
	}
	if n.OrgAddress == "" {
		n.OrgAddress = d.OrgAddress
	}
	if n.BreakGlass == "" {
		n.BreakGlass = d.BreakGlass
	}
	return n
}

// keySource yields the keys to try for a token naming kid ("" when none).
type keySource interface {
	keys(ctx context.Context, kid string) (jwk.Set, error)
}

type staticKeys struct{ set jwk.Set }

func (s staticKeys) keys(context.Context, string) (jwk.Set, error) { return s.set, nil }

// Verifier checks bearer tokens.
type Verifier struct {
	sources  []keySource
	jwks     *jwksSource
	issuer   string
	audience string
	skew     time.Duration
	claims   ClaimNames
	cache    *tokenCache
	// clientPurposes is Config.ClientPurposes, each purpose read as a
	// token's is (NormalizePurpose).
	clientPurposes map[string][]string
}

// NewVerifier builds a verifier from cfg; at least one key source is needed.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, skew: cfg.Skew, claims: cfg.Claims.withDefaults()}
	if len(cfg.ClientPurposes) > 0 {
		v.clientPurposes = make(map[string][]string, len(cfg.ClientPurposes))
		for client, ps := range cfg.ClientPurposes {
			allowed := make([]string, 0, len(ps))
			for _, p := range ps {
				allowed = append(allowed, NormalizePurpose(p))
			}
			v.clientPurposes[client] = allowed
		}
	}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newTokenCache(DefaultCacheSize, DefaultCacheTTL)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize, DefaultCacheTTL)
	}
	if cfg.JWKSURL != "" {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("authn: JWKS URL %q is not an absolute http(s) URL", cfg.JWKSURL)
		}
		v.jwks = newJWKSSource(cfg.JWKSURL, cfg.JWKSClient, cfg.JWKSMaxAge, cfg.JWKSMinRefresh)
		v.sources = append(v.sources, v.jwks)
	}
	if cfg.KeyFile != "" {
		set, err := readKeyFile(cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		v.sources = append(v.sources, staticKeys{set})
	}
	if cfg.DevKeys != nil {
		pub, err := publicOnly(cfg.DevKeys)
		if err != nil {
			return nil, err
		}
		v.sources = append(v.sources, staticKeys{pub})
	}
	if len(v.sources) == 0 {
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
	kid, err := checkAlg(raw)
	if err != nil {
		return Caller{}, err
	}
	var lastErr error
	gotKeys := false
	for _, src := range v.sources {
		set, err := src.keys(ctx, kid)
		if err != nil {
			lastErr = err
			continue
		}
		gotKeys = true
		tok, err := jwt.ParseString(raw, v.parseOptions(ctx, set)...)
		if err != nil {
			lastErr = err
			continue
		}
		c, err := v.callerFrom(tok)
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
	if !gotKeys {
		return Caller{}, fmt.Errorf("%w: %s", ErrKeysUnavailable, bounded(lastErr))
	}
	return Caller{}, fmt.Errorf("%w: %s", ErrUnauthenticated, bounded(lastErr))
}

// MaxReasonBytes bounds the part of a refusal's message that comes from
// the JWT library: its messages may quote the token (a key id it found no
// key for, a claim's name), and a refusal is logged and queued for the
// SIEM for every unauthenticated request.
const MaxReasonBytes = 160

// bounded is err's message cut to MaxReasonBytes on a UTF-8 boundary,
// with "…" when cut.
func bounded(err error) string {
	if err == nil {
		return "no key source"
	}
	return textcut.Cut(err.Error(), MaxReasonBytes)
}

// ReadyCheck reports, for /readyz, whether the issuer's JWKS (when one is
// configured) gives keys: it fetches them when none are held. Without
// another key source an unavailable JWKS fails readiness, since no token
// can be checked; with one (a key file, dev keys) it is Degraded.
func (v *Verifier) ReadyCheck(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	// The fetch is shared and outlives the probe (it has its own
	// timeout); the probe waits only as long as its context allows.
	done := make(chan error, 1)
	go func() {
		_, err := v.jwks.keys(context.WithoutCancel(ctx), "")
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("authn: JWKS %s: no key set within the readiness check's time", v.jwks.name)
	}
	if err != nil && len(v.sources) > 1 {
		return degradedError{err}
	}
	return err
}

// degradedError is a readiness problem that leaves the proxy serving
// (/readyz "warn").
type degradedError struct{ error }

func (degradedError) Degraded() bool  { return true }
func (e degradedError) Unwrap() error { return e.error }

func (v *Verifier) parseOptions(ctx context.Context, set jwk.Set) []jwt.ParseOption {
	opts := []jwt.ParseOption{
		jwt.WithContext(ctx),
		jwt.WithKeyProvider(signingKeys{set}),
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

// signingKeys offers the keys of a set that may check a token's
// signature, each with the algorithm the token's header names (checkAlg
// allowed it): a key whose use is not "sig", whose key_ops do not include
// "verify", whose own alg is another one, or whose type the algorithm
// does not take is not offered. jwx's key set provider checked only the
// use, and verified with the key's alg when it had one, so a token whose
// header said PS256 passed with an RS256 signature, and a key the issuer
// published for encryption only (key_ops ["encrypt"]) checked signatures
// (QA round 26, area B). Every key is tried, whatever the token's kid
// (kid is a hint; the set's keys are all the issuer's).
type signingKeys struct{ set jwk.Set }

func (p signingKeys) FetchKeys(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	alg := sig.ProtectedHeaders().Algorithm()
	if !allowedAlgs[alg] {
		return errors.New("algorithm not allowed")
	}
	for i := 0; i < p.set.Len(); i++ {
		if k, ok := p.set.Key(i); ok && verifies(k, alg) {
			sink.Key(alg, k)
		}
	}
	return nil
}

// verifies reports whether key k may check a signature made with alg.
func verifies(k jwk.Key, alg jwa.SignatureAlgorithm) bool {
	if u := k.KeyUsage(); u != "" && u != jwk.ForSignature.String() {
		return false
	}
	if ops := k.KeyOps(); len(ops) > 0 && !slices.Contains(ops, jwk.KeyOpVerify) {
		return false
	}
	if ka := k.Algorithm().String(); ka != "" && ka != alg.String() {
		return false
	}
	algs, err := jws.AlgorithmsForKey(k)
	return err == nil && slices.Contains(algs, alg)
}

// checkAlg refuses a token whose header names an algorithm outside the
// allowlist before any key is tried, and returns the header's key id.
func checkAlg(raw string) (string, error) {
	if strings.Count(raw, ".") != 2 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrUnauthenticated)
	}
	if err := strictParts(raw); err != nil {
		return "", err
	}
	msg, err := jws.ParseString(raw)
	if err != nil {
		return "", fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return "", fmt.Errorf("%w: want exactly one signature", ErrUnauthenticated)
	}
	h := sigs[0].ProtectedHeaders()
	if alg := h.Algorithm(); !allowedAlgs[alg] {
		// The header is the caller's, unverified: name the algorithm
		// only when it is a registered one, never echo arbitrary text.
		if knownAlgs[alg.String()] {
			return "", fmt.Errorf("%w: algorithm %s not allowed", ErrUnauthenticated, alg)
		}
		return "", fmt.Errorf("%w: algorithm not allowed", ErrUnauthenticated)
	}
	// Keys the header embeds or points to (jwk, jku, x5c, x5u) are never
	// used: only the configured key sources are.
	return h.KeyID(), nil
}

// strictParts refuses what a JSON reader may read two ways, before the
// token is parsed (QA): a header or claim set with a name twice (the last
// "sub" or "scope" won), a critical header extension (RFC 7515 4.1.11:
// none is understood here), and time claims that are not numbers ("exp"
// as a string was read).
func strictParts(raw string) error {
	parts := strings.SplitN(raw, ".", 3)
	for i, name := range []string{"header", "claims"} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return fmt.Errorf("%w: malformed token %s", ErrUnauthenticated, name)
		}
		if err := fjson.Validate(b, 16); err != nil || len(b) == 0 || b[fjson.SkipSpace(b, 0)] != '{' {
			return fmt.Errorf("%w: the token's %s is not a JSON object with each name once", ErrUnauthenticated, name)
		}
		obj := fjson.SkipSpace(b, 0)
		if i == 0 {
			if _, _, crit, _ := fjson.Lookup(b, obj, "crit"); crit {
				return fmt.Errorf("%w: critical header extensions are not supported", ErrUnauthenticated)
			}
			continue
		}
		for _, k := range []string{"exp", "nbf", "iat"} {
			if vs, _, ok, _ := fjson.Lookup(b, obj, k); ok && !(b[vs] == '-' || b[vs] >= '0' && b[vs] <= '9') {
				return fmt.Errorf("%w: %s is not a number", ErrUnauthenticated, k)
			}
		}
	}
	return nil
}

// ClientAllowed returns purposes (read as NormalizePurpose reads them)
// with each one client may not state (Config.ClientPurposes) replaced by
// NotAllowedPurpose, in place.
func (v *Verifier) ClientAllowed(client string, purposes []string) []string {
	if allowed, ok := v.clientPurposes[client]; ok && client != "" {
		for i, p := range purposes {
			if !slices.Contains(allowed, p) {
				purposes[i] = NotAllowedPurpose
			}
		}
	}
	return purposes
}

func (v *Verifier) callerFrom(tok jwt.Token) (Caller, error) {
	// A consent names the caller by its subject too (an identity provider
	// whose sub is Practitioner/dr-x): one a claim template padded
	// (" Practitioner/dr-x", a zero-width space) named no one, and dr-x
	// read what p1's deny of dr-x withholds (QA round 42, helper E).
	// Trimmed as the org and fhirUser are, so the ledger, rate limits and
	// logs record the name a consent uses; one that is only blanks is
	// none.
	c := Caller{Subject: trimBlank(tok.Subject()), Issuer: tok.Issuer(), limits: v}
	// The claims a consent names the caller by, and those naming the
	// client its purposes are limited for (Config.ClientPurposes): one an
	// IdP's multivalued attribute mapper wrote as an array
	// (["Organization/org-b"], ["payer-app"]) or an object was read as
	// none, so a patient's deny of that organisation (or identifier)
	// matched no one and org-b read the records it denies, and a payer's
	// app stated TREAT unlimited (QA round 41, helper D). Refused, as a
	// fhirUser that is no string is; null names nothing, as an absent
	// claim.
	for _, name := range []string{v.claims.Org, "client_id", "azp"} {
		if raw, present := tok.Get(name); present && raw != nil {
			if _, ok := raw.(string); !ok {
				return Caller{}, fmt.Errorf("%w: the %s claim is not a string", ErrUnauthenticated, name)
			}
		}
	}
	if raw, present := tok.Get(v.claims.OrgIdentifiers); present && raw != nil && !allStrings(raw) {
		return Caller{}, fmt.Errorf("%w: the %s claim is not a string or an array of strings", ErrUnauthenticated, v.claims.OrgIdentifiers)
	}
	org, orgURL, ok := orgRef(trimBlank(stringClaim(tok, v.claims.Org)))
	if !ok {
		// Compared as sent, "https://ehr/fhir/Organization/org-b",
		// "Organization/org-b/", "organization/org-b" or a versioned
		// reference named no one a patient's deny of Organization/org-b
		// names, and org-b read what it denies (QA round 41, helpers D
		// and H). Read as Type/id where it is a reference; refused where
		// it is no reading of one.
		return Caller{}, fmt.Errorf("%w: the %s claim is neither an id without a slash, a reference (Type/id, or a URL of one), nor system|value", ErrUnauthenticated, v.claims.Org)
	}
	c.Org, c.OrgURL = org, orgURL
	c.Client = firstNonEmpty(trimBlank(stringClaim(tok, "client_id")), trimBlank(stringClaim(tok, "azp")))
	if azp := trimBlank(stringClaim(tok, "azp")); azp != c.Client {
		c.azp = azp
	}
	c.certThumbprint, c.badCnf = cnfThumbprint(tok)
	c.Scopes = scopeTokens(stringClaim(tok, "scope"))
	c.OrgIdentifiers = stringsClaim(tok, v.claims.OrgIdentifiers)
	for i, id := range c.OrgIdentifiers {
		c.OrgIdentifiers[i] = trimBlank(id)
	}
	// Limited for each client the token names: its azp too when its
	// client_id names another (only the client_id's limit held, so a
	// token azp said was the payer's app stated TREAT under another
	// client_id).
	c.Purposes = v.ClientAllowed(c.azp, v.ClientAllowed(c.Client, PurposesFrom(tok, v.claims.Purposes)))
	c.BreakGlass = BreakGlassReason(stringClaim(tok, v.claims.BreakGlass))
	c.OrgName, c.OrgAddress = stringClaim(tok, v.claims.OrgName), stringClaim(tok, v.claims.OrgAddress)
	// SMART's patient claim is a bare id; "Patient/ID" is accepted too.
	// A patient claim that is present but not a plain id is refused: it must
	// never leave a token unbound to a compartment.
	// One given as an identifier (system|value) is kept for the proxy to
	// resolve.
	c.Patient = strings.TrimPrefix(stringClaim(tok, "patient"), "Patient/")
	if system, value, ok := strings.Cut(c.Patient, "|"); ok && system != "" && value != "" {
		c.Patient, c.PatientIdentifier = "", system+"|"+value
	} else if _, present := tok.Get("patient"); present && !plainPatientID(c.Patient) {
		return Caller{}, fmt.Errorf("%w: the patient claim is not a FHIR id", ErrUnauthenticated)
	}
	if raw, present := tok.Get("fhirUser"); present {
		if _, ok := raw.(string); !ok {
			// SMART's fhirUser is a URL: one written as an array or an
			// object was read as none, so a patient's token so made was
			// bound to no compartment (and a caregiver's emergency claim
			// counted). Refused, as a patient claim that is no id is.
			return Caller{}, fmt.Errorf("%w: the fhirUser claim is not a string", ErrUnauthenticated)
		}
	}
	fu := stringClaim(tok, "fhirUser")
	ref, refFrom := FHIRUserRef(fu), fu
	if t := trimBlank(fu); ref == "" && t != fu && !strings.HasPrefix(FHIRUserRef(t), "Patient/") {
		// A consent names a clinician by fhirUser: " Practitioner/dr-x"
		// (a claim template's stray blank, an invisible character) named
		// no one, so p1's deny of dr-x withheld nothing from dr-x (QA
		// round 41, helper G). Trimmed as the org is; a patient's so
		// written stays refused (the fallback below).
		ref, refFrom = FHIRUserRef(t), t
	}
	if c.FHIRUser = ref; c.FHIRUser != "" && strings.Contains(refFrom, "://") {
		c.FHIRUserURL = refFrom
	}
	// A claim FHIRUserRef read names its type exactly; one it could not
	// read is a patient's when it looks like a Patient reference at all.
	c.PatientUser = strings.HasPrefix(c.FHIRUser, "Patient/") || c.FHIRUser == "" && NamesPatient(fu)
	typ, _, _ := strings.Cut(c.FHIRUser, "/")
	c.PersonUser = typ == "RelatedPerson" || typ == "Person" || c.FHIRUser == "" && (namesType(fu, "relatedperson") || namesType(fu, "person"))
	if fu != "" && c.FHIRUser == "" {
		if !c.PatientUser && !namesType(fu, "practitioner") && !namesType(fu, "practitionerrole") {
			// A fhirUser no reading names a type of (" RelatedPerson/x",
			// "urn:RelatedPerson:x") may be someone acting for a
			// patient: not known to be medical personnel, its emergency
			// claim is ignored as a person's (fail closed).
			c.PersonUser = true
		}
		// And who it names may be a patient: left unbound, a portal
		// token with user/ scopes, no patient claim and such a fhirUser
		// read other patients' records (QA round 40, helper A). Looking
		// for "patient" in it was a list of spellings that missed some
		// (a Cyrillic a, mathematical or circled letters: QA round 42,
		// helper E), so without a patient context it binds to nothing
		// and is refused (bindPatientUser), whatever it says: a fhirUser
		// counts only as a reference FHIRUserRef reads.
		if c.Patient == "" && c.PatientIdentifier == "" {
			c.PatientUser = true
		}
	}
	c.IssuedAt, c.Expiry = tok.IssuedAt(), tok.Expiration()
	if c.Subject == "" {
		return Caller{}, fmt.Errorf("%w: token has no subject", ErrUnauthenticated)
	}
	return c, nil
}

// fhirUserTypes are the resource types SMART's fhirUser may name.
var fhirUserTypes = map[string]bool{"Patient": true, "Practitioner": true, "PractitionerRole": true, "RelatedPerson": true, "Person": true}

// FHIRUserRef returns the fhirUser claim s (a relative reference, exactly
// Type/id, or an absolute URL ending in Type/id, SMART App Launch 2.0) as
// Type/id, or "" when s is not a reference to one of fhirUserTypes with a
// plain id. Nothing is guessed: a query, fragment, version, trailing slash
// or a relative path of more segments makes it "". Whether an absolute
// URL's base is the right server is the caller's to check (FHIRUserURL).
func FHIRUserRef(s string) string {
	absolute := false
	if i := strings.Index(s, "://"); i >= 0 {
		absolute = true
		rest := s[i+3:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return ""
		}
		s = rest[slash+1:]
	}
	if strings.ContainsAny(s, "?#") {
		return ""
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || !absolute && len(parts) != 2 {
		return ""
	}
	typ, id := parts[len(parts)-2], parts[len(parts)-1]
	if !fhirUserTypes[typ] || !plainPatientID(id) {
		return ""
	}
	return typ + "/" + id
}

// orgRef reads the org claim s: a plain FHIR id or an opaque id without a
// slash (opaqueOrg: a site naming its organisation by its IdP's id) or an
// identifier (system|value, both given, no white space) as sent; a reference Type/id (of a FHIR resource type, a plain id)
// or a version of one (Type/id/_history/v) as Type/id; an absolute http(s)
// URL of such a reference, plain (no user, query or fragment), as Type/id
// with the URL as abs, for the proxy to check its base; a urn:oid: or
// urn:uuid: as sent. Anything else (a trailing slash, a type in another
// case, more segments, an escape) is not ok: it would name no one a
// consent names.
func orgRef(s string) (ref, abs string, ok bool) {
	switch {
	case s == "" || plainPatientID(s) || opaqueOrg(s):
		return s, "", true
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '%' || r == '\\' }):
		return "", "", false
	case strings.Count(s, "|") == 1:
		system, value, _ := strings.Cut(s, "|")
		return s, "", system != "" && value != ""
	case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		u, err := url.Parse(s)
		if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Host == "" {
			return "", "", false
		}
		segs := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
		if n := len(segs); n >= 4 && segs[n-2] == "_history" {
			segs = segs[:n-2]
		}
		if len(segs) < 2 {
			return "", "", false
		}
		ref = OrgReference(strings.Join(segs[len(segs)-2:], "/"))
		return ref, s, ref != ""
	case strings.HasPrefix(s, "urn:oid:") || strings.HasPrefix(s, "urn:uuid:"):
		return s, "", !strings.ContainsAny(s, "/?#")
	}
	ref = OrgReference(s)
	return ref, "", ref != ""
}

// opaqueOrg reports whether s names an organisation by an opaque id or
// name that is no FHIR id (Auth0's org_id "org_W4u3Dm6l0qVvJ7ZH", a GUID, an
// id over 64 characters, "St Marys Hospital"): printable ASCII, at most 256
// bytes, without a slash, '|', '%', a backslash, '?' or '#'. Holding no slash it is
// no spelling of a reference a consent names, and is taken as sent, as a
// plain id is (QA round 41, helper J).
func opaqueOrg(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || strings.IndexByte(`/|%\?#`, c) >= 0 {
			return false
		}
	}
	return true
}

// OrgReference returns the relative reference s (Type/id, or
// Type/id/_history/v) as Type/id when Type is a FHIR resource type and id
// a plain id, else "".
func OrgReference(s string) string {
	segs := strings.Split(s, "/")
	if len(segs) == 4 && segs[2] == "_history" && plainPatientID(segs[3]) {
		segs = segs[:2]
	}
	if len(segs) != 2 || !fhirsearch.KnownType(segs[0]) || !plainPatientID(segs[1]) {
		return ""
	}
	return segs[0] + "/" + segs[1]
}

// NamesPatient reports whether the fhirUser claim s looks like a reference
// to a Patient in any spelling (a path segment "Patient" followed by a
// slash, whatever FHIRUserRef makes of it): such a user is a patient,
// and a claim too odd to read must not leave the token unbound.
func NamesPatient(s string) bool { return namesType(s, "patient") }

// namesType reports whether the fhirUser claim s has a path segment typ
// (lower case) followed by a slash, in any case and escaped or not.
func namesType(s, typ string) bool {
	names := func(s string) bool {
		// " Patient/p1": a blank a claim template left before or after
		// the reference hid the type, and the token went unbound
		l := strings.ToLower(strings.TrimSpace(s))
		return strings.HasPrefix(l, typ+"/") || strings.Contains(l, "/"+typ+"/")
	}
	if names(s) {
		return true
	}
	u, err := url.PathUnescape(s) // "Patient%2Fp1"
	return err == nil && u != s && names(u)
}

// plainPatientID reports whether s is a FHIR id: [A-Za-z0-9-.]{1,64}.
func plainPatientID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// scopeTokens splits a scope claim into its scope-tokens, separated by
// spaces only (RFC 6749 3.3: %x20). strings.Fields split on any Unicode
// white space, so one scope an authorisation server granted by a pattern
// (patient/Observation.rs?category=*) whose value held a no-break space,
// a tab or a line break before "user/*.cruds" gave the caller that scope
// too (QA round 41, helper D). Such a token stays one scope, which grants
// only what it names.
func scopeTokens(s string) []string {
	out := make([]string, 0, strings.Count(s, " ")+1)
	for _, t := range strings.Split(s, " ") {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
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

// trimBlank is s without the white space and the characters that show
// nothing (format and default-ignorable ones: a zero-width space, a
// byte-order mark) at either end. A claim template's stray blank around
// an org claim (" Organization/org-b") left it naming no one a consent
// names, so a patient's deny of that organisation matched no one, and
// around a client_id (" payer-app") no client auth.client_purposes limits
// (QA round 41, helper D), as a blank before a fhirUser's type did
// (d90fcd2). Those that show nothing are dropped inside the value too
// ("Organization/\u200borg-b", a soft hyphen in an NPI): the claim reads
// as the organisation a consent names, and named no one (QA round 41,
// helper G).
func trimBlank(s string) string {
	invisible := func(r rune) bool { return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point) }
	if strings.IndexFunc(s, invisible) >= 0 {
		s = strings.Map(func(r rune) rune {
			if invisible(r) {
				return -1
			}
			return r
		}, s)
	}
	return strings.TrimFunc(s, unicode.IsSpace)
}

// allStrings reports whether v is a string or an array of strings only.
func allStrings(v any) bool {
	switch x := v.(type) {
	case string, []string:
		return true
	case []any:
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
