package proxy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/urltext"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// ClientCredentials is UpstreamCredentials ds4p obtains itself with the
// OAuth 2.0 client credentials grant at the upstream's token endpoint: the
// SMART Backend Services profile (the client authenticates with a JWT
// signed by its private key, RS384 or ES384: private_key_jwt), or
// client_secret_basic (a client id and secret, as many gateways take).
//
// The key or secret file is read again when it changes (looked at no more
// than once a second, and at once when the token server refuses the
// client), so a site rotates it in place, without a restart; a file that
// no longer reads as a key or secret fails the fetch closed until it does.
//
// The token is cached until its expires_in less a margin; one fetch runs
// at a time and every request waiting for it waits on that one (each no
// longer than its own context); a 401 from the upstream drops the token
// (the next request fetches another, no sooner than a second after the
// last fetch). A failed fetch fails the requests closed (nothing is sent
// upstream) and is tried again by a request coming at least a second
// later, never in a loop. Neither the token, nor the secret, nor the
// assertion is ever part of an error; the endpoint is named without its
// query or credentials.
type ClientCredentials struct {
	cfg      ClientCredentialsConfig
	endpoint string                      // the token URL as messages show it
	key      *credentialFile[signingKey] // private_key_jwt, or
	secret   *credentialFile[string]     // client_secret_basic
	client   *http.Client
	now      func() time.Time

	mu        sync.Mutex
	tok       string
	expires   time.Time
	fetching  chan struct{} // closed when the running fetch ends
	err       error         // the last fetch's failure
	retryAt   time.Time     // no fetch before, after a failure
	lastFetch time.Time     // when the last fetch started
}

// ClientCredentialsConfig configures ClientCredentials.
type ClientCredentialsConfig struct {
	TokenURL string // the token endpoint: https, or http to a loopback host
	ClientID string
	Scope    string // e.g. "system/*.rs"; empty sends none
	// Exactly one of: PrivateKeyFile, a PEM private key (PKCS#8, PKCS#1
	// RSA of 2048 bits or more, or EC P-384 in PKCS#8 or SEC 1) signing
	// the client assertion, with KeyID its kid; ClientSecretFile, a file
	// holding the client secret alone.
	PrivateKeyFile   string
	KeyID            string
	ClientSecretFile string
	// HTTPClient sends the token requests (nil: a client with a 10 second
	// timeout). Redirects are never followed.
	HTTPClient *http.Client
}

const (
	// maxTokenResponseBytes bounds the token endpoint's answer.
	maxTokenResponseBytes = 64 << 10
	// tokenRetryAfter is how long a failed fetch is not tried again,
	// and the least time between two fetches.
	tokenRetryAfter = time.Second
	// assertionLifetime is the client assertion's exp from now: SMART
	// wants no more than five minutes.
	assertionLifetime = 4 * time.Minute
	// defaultTokenLifetime is assumed when the answer has no expires_in.
	defaultTokenLifetime = time.Minute
	// tokenFetchTimeout bounds one fetch when the client has no timeout.
	tokenFetchTimeout = 10 * time.Second
)

// NewClientCredentials checks cfg and reads its key or secret file; it
// fetches no token (the first request does).
func NewClientCredentials(cfg ClientCredentialsConfig) (*ClientCredentials, error) {
	if err := CheckTokenURL(cfg.TokenURL); err != nil {
		return nil, err
	}
	c := &ClientCredentials{cfg: cfg, endpoint: strconv.Quote(urltext.URL(cfg.TokenURL)), now: time.Now}
	switch {
	case strings.TrimSpace(cfg.ClientID) == "":
		return nil, errors.New("client_id: required")
	case strings.ContainsAny(cfg.ClientID, "\r\n\x00"):
		return nil, errors.New("client_id: holds a line break or NUL")
	case (cfg.PrivateKeyFile == "") == (cfg.ClientSecretFile == ""):
		return nil, errors.New("set exactly one of private_key_file (SMART Backend Services, a signed JWT assertion) and client_secret_file (client_secret_basic)")
	case cfg.PrivateKeyFile != "" && strings.TrimSpace(cfg.KeyID) == "":
		return nil, errors.New("key_id: required with private_key_file (the kid of the public key the token server holds)")
	case cfg.ClientSecretFile != "" && cfg.KeyID != "":
		return nil, errors.New("key_id: only with private_key_file (a client secret has no key id)")
	}
	var err error
	if cfg.PrivateKeyFile != "" {
		c.key = newCredentialFile(cfg.PrivateKeyFile, "private_key_file", signingKeyParser(cfg.KeyID))
		_, err = c.key.get()
	} else {
		c.secret = newCredentialFile(cfg.ClientSecretFile, "client_secret_file", parseSecret)
		_, err = c.secret.get()
	}
	if err != nil {
		return nil, err
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: tokenFetchTimeout}
	}
	cl := *base
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.client = &cl
	return c, nil
}

// CheckTokenURL reports why raw cannot be a token endpoint: not an
// absolute URL, credentials or a fragment in it, or plain http to a host
// other than a loopback one. The URL is shown without its query.
func CheckTokenURL(raw string) error {
	shown := strconv.Quote(urltext.URL(raw))
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("token_url: required")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("token_url: %s is not an absolute http(s) URL", shown)
	case u.User != nil:
		return fmt.Errorf("token_url: %s holds a user name or password: give the client's credentials in client_secret_file or private_key_file", shown)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("token_url: %s has a fragment", shown)
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		return fmt.Errorf("token_url: %s is plain http to another host: the assertion or secret and the token would cross the network unencrypted; use https", shown)
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// signingKey is a client assertion's key and the algorithm it signs with.
type signingKey struct {
	key jwk.Key
	alg jwa.SignatureAlgorithm
}

// signingKeyParser reads a PEM private key, with kid its key id, and says
// which algorithm it signs with. Its content is never part of an error.
func signingKeyParser(kid string) func([]byte) (signingKey, error) {
	return func(b []byte) (signingKey, error) {
		var raw any
		var err error
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			switch blk.Type {
			case "PRIVATE KEY":
				raw, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
			case "RSA PRIVATE KEY":
				raw, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
			case "EC PRIVATE KEY":
				raw, err = x509.ParseECPrivateKey(blk.Bytes)
			default:
				continue // EC PARAMETERS, a certificate ...
			}
			if err != nil {
				return signingKey{}, fmt.Errorf("has a %s block that does not parse as a key", blk.Type)
			}
			break
		}
		var alg jwa.SignatureAlgorithm
		switch k := raw.(type) {
		case nil:
			return signingKey{}, errors.New("holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
		case *rsa.PrivateKey:
			if k.N.BitLen() < 2048 {
				return signingKey{}, fmt.Errorf("holds an RSA key of %d bits, fewer than 2048", k.N.BitLen())
			}
			alg = jwa.RS384
		case *ecdsa.PrivateKey:
			if k.Curve != elliptic.P384() {
				return signingKey{}, fmt.Errorf("holds an EC key on %s, not P-384 (ES384, as SMART Backend Services asks)", k.Curve.Params().Name)
			}
			alg = jwa.ES384
		default:
			return signingKey{}, fmt.Errorf("holds a %T, not an RSA or EC P-384 key", raw)
		}
		key, err := jwk.FromRaw(raw)
		if err != nil {
			return signingKey{}, fmt.Errorf("holds a key jwx cannot use: %w", err)
		}
		if err := key.Set(jwk.KeyIDKey, kid); err != nil {
			return signingKey{}, err
		}
		return signingKey{key, alg}, nil
	}
}

// parseSecret reads a client secret alone (white space around it
// ignored); it is never part of an error.
func parseSecret(b []byte) (string, error) {
	s := bytes.TrimSpace(b)
	switch {
	case len(s) == 0:
		return "", errors.New("is empty")
	case bytes.ContainsAny(s, "\r\n\x00"):
		return "", errors.New("holds more than one line: write the secret alone")
	}
	return string(s), nil
}

// Token returns the cached token, or waits for a fetch (starting one when
// none runs), no longer than ctx allows.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	for {
		c.mu.Lock()
		now := c.now()
		if c.tok != "" && now.Before(c.expires) {
			tok := c.tok
			c.mu.Unlock()
			return tok, nil
		}
		wait := c.fetching
		if wait == nil {
			if c.err != nil && now.Before(c.retryAt) {
				err := c.err
				c.mu.Unlock()
				return "", err
			}
			wait = make(chan struct{})
			c.fetching = wait
			go c.fetch(wait)
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for a token from %s: %w", c.endpoint, ctx.Err())
		}
		c.mu.Lock()
		tok, err := c.tok, c.err
		c.mu.Unlock()
		if err != nil {
			return "", err
		}
		if tok != "" {
			// Just issued: used even when its lifetime (less the
			// margin) is over already, else a very short-lived token
			// would have every request fetch again until its deadline.
			return tok, nil
		}
		// Dropped since (a 401): look again.
	}
}

// Rejected drops token when it is the cached one, and has the key or
// secret file looked at before the next fetch (a site that rotated it may
// have revoked what the token was granted to).
func (c *ClientCredentials) Rejected(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if token != "" && token == c.tok {
		c.tok, c.expires = "", time.Time{}
		if c.key != nil {
			c.key.rejected(func(signingKey) bool { return true })
		} else {
			c.secret.rejected(func(string) bool { return true })
		}
	}
}

// fetch runs one grant and stores its outcome; done is closed after.
func (c *ClientCredentials) fetch(done chan struct{}) {
	c.mu.Lock()
	since := c.now().Sub(c.lastFetch)
	c.mu.Unlock()
	if since < tokenRetryAfter {
		// The token was rejected right after it was fetched: not again at once.
		time.Sleep(tokenRetryAfter - since)
	}
	c.mu.Lock()
	c.lastFetch = c.now()
	start := c.lastFetch
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), tokenFetchTimeout)
	tok, life, err := c.grant(ctx)
	cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(done)
	c.fetching = nil
	if err != nil {
		c.tok, c.expires, c.err, c.retryAt = "", time.Time{}, err, c.now().Add(tokenRetryAfter)
		return
	}
	// Counted from when the request was sent: the server's clock
	// started before the answer arrived.
	margin := min(time.Minute, life/5)
	c.tok, c.expires, c.err = tok, start.Add(life-margin), nil
}

// tokenAnswer is the token endpoint's JSON answer (RFC 6749 5.1, 5.2).
type tokenAnswer struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
}

// oauthErrorCode is what an error code may be to be shown (RFC 6749 5.2
// codes are of these characters).
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// grant posts the client credentials grant and reads the token and its
// lifetime from the answer.
func (c *ClientCredentials) grant(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.cfg.Scope != "" {
		form.Set("scope", c.cfg.Scope)
	}
	var secret string
	var usedKey jwk.Key
	if c.key != nil {
		key, err := c.key.get()
		if err != nil {
			return "", 0, fmt.Errorf("token from %s: %w", c.endpoint, err)
		}
		usedKey = key.key
		assertion, err := c.assertion(key)
		if err != nil {
			return "", 0, fmt.Errorf("token from %s: signing the client assertion: %w", c.endpoint, err)
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	} else {
		var err error
		if secret, err = c.secret.get(); err != nil {
			return "", 0, fmt.Errorf("token from %s: %w", c.endpoint, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token from %s: the request cannot be made", c.endpoint)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if secret != "" {
		// RFC 6749 2.3.1: each form-encoded before Basic.
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(c.cfg.ClientID)+":"+url.QueryEscape(secret))))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL would carry the query
		}
		return "", 0, fmt.Errorf("token from %s: %s", c.endpoint, urltext.Text(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes+1))
	if err != nil {
		return "", 0, fmt.Errorf("token from %s: reading the answer: %s", c.endpoint, urltext.Text(err.Error()))
	}
	if len(body) > maxTokenResponseBytes {
		return "", 0, fmt.Errorf("token from %s: the answer is larger than %d bytes", c.endpoint, maxTokenResponseBytes)
	}
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)
	if resp.StatusCode != http.StatusOK {
		code := ""
		if jsonErr == nil && oauthErrorCode.MatchString(ans.Error) {
			code = " (" + ans.Error + ")"
		}
		if resp.StatusCode == http.StatusUnauthorized || (jsonErr == nil && ans.Error == "invalid_client") {
			// The client was refused: a rotated key or secret is read at once.
			if c.key != nil {
				c.key.rejected(func(k signingKey) bool { return k.key == usedKey })
			} else {
				c.secret.rejected(func(s string) bool { return s == secret })
			}
		}
		return "", 0, fmt.Errorf("token from %s: HTTP %d%s", c.endpoint, resp.StatusCode, code)
	}
	if jsonErr != nil {
		return "", 0, fmt.Errorf("token from %s: the answer is not a JSON token response", c.endpoint)
	}
	if !strings.EqualFold(ans.TokenType, "bearer") {
		return "", 0, fmt.Errorf("token from %s: token_type is not Bearer (ds4p sends only bearer tokens)", c.endpoint)
	}
	if !bearerToken(ans.AccessToken) {
		return "", 0, fmt.Errorf("token from %s: no access_token, or one with a byte no bearer token has", c.endpoint)
	}
	life := defaultTokenLifetime
	if len(ans.ExpiresIn) > 0 && string(ans.ExpiresIn) != "null" {
		s := strings.Trim(string(ans.ExpiresIn), `"`) // some servers quote it
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || !(secs > 0 && secs <= 365*24*3600) { // NaN too
			return "", 0, fmt.Errorf("token from %s: expires_in is not a positive number of seconds", c.endpoint)
		}
		life = time.Duration(secs * float64(time.Second))
	}
	return ans.AccessToken, life, nil
}

// bearerToken: non-empty, printable ASCII without space (RFC 6750 b64token
// and more: what a header can carry).
func bearerToken(s string) bool {
	if s == "" || len(s) > maxTokenResponseBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// assertion is a fresh client assertion (SMART Backend Services): iss and
// sub the client id, aud the token URL, exp within five minutes, a random
// jti; kid in the header.
func (c *ClientCredentials) assertion(k signingKey) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := time.Now() // the token server's clock, not the cache's
	// Built here, not with jwt.Builder: aud a string, as SMART shows it
	// (jwx writes a one-element audience as an array unless told so
	// process-wide).
	payload, err := json.Marshal(map[string]any{
		"iss": c.cfg.ClientID, "sub": c.cfg.ClientID, "aud": c.cfg.TokenURL,
		"iat": now.Unix(), "exp": now.Add(assertionLifetime).Unix(), "jti": hex.EncodeToString(jti),
	})
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, "JWT")
	_ = hdr.Set(jws.KeyIDKey, c.cfg.KeyID)
	b, err := jws.Sign(payload, jws.WithKey(k.alg, k.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
