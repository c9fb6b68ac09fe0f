package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Credentials to the upstream. An EHR's FHIR API wants a token of the
// proxy's own (the caller's Authorization is the caller's, for ds4p, and
// is never forwarded). UpstreamCredentials gives it; every request ds4p
// sends upstream (the reverse proxy's, and its own: stored versions,
// consents, reference checks, readiness, simulations) carries it as a
// bearer token. Without a token there is no request: the caller gets the
// upstream-failure answer, and nothing reaches the upstream.

// UpstreamCredentials gives the bearer token ds4p presents to the upstream.
type UpstreamCredentials interface {
	// Token returns the token to send now.
	Token(ctx context.Context) (string, error)
	// Rejected tells that the upstream answered 401 to token: the next
	// Token looks again (a rotated file, a new grant).
	Rejected(token string)
}

// TokenFile is UpstreamCredentials read from a file holding the token
// alone (white space around it ignored), as a secrets mount or an agent
// that renews tokens (a Vault agent, a job running a SMART backend
// services grant) writes it. The file is looked at again at most once a
// second, and at once after the upstream rejected its token; a changed
// file (size or modification time) is read again. A file that cannot be
// read, or holds no token, is an error: nothing is sent.
type TokenFile struct {
	path string

	mu      sync.Mutex
	tok     string
	size    int64
	mod     time.Time
	checked time.Time
	err     error
}

// tokenFileRecheck is how long a TokenFile trusts what it read.
const tokenFileRecheck = time.Second

// maxTokenFileBytes bounds a token file: a JWT of a few KB fits.
const maxTokenFileBytes = 64 << 10

// NewTokenFile reads the token file at path, and reports why it cannot be
// used (unreadable, empty, not a token).
func NewTokenFile(path string) (*TokenFile, error) {
	f := &TokenFile{path: path}
	if _, err := f.Token(context.Background()); err != nil {
		return nil, err
	}
	return f, nil
}

// Token returns the file's token, reading the file again when it changed.
func (f *TokenFile) Token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if !f.checked.IsZero() && now.Sub(f.checked) < tokenFileRecheck {
		return f.tok, f.err
	}
	f.checked = now
	st, err := os.Stat(f.path)
	if err != nil {
		f.tok, f.err = "", fmt.Errorf("upstream token file: %w", err)
		return "", f.err
	}
	if f.err == nil && f.tok != "" && st.Size() == f.size && st.ModTime().Equal(f.mod) {
		return f.tok, nil
	}
	f.tok, f.err = readTokenFile(f.path, st)
	f.size, f.mod = st.Size(), st.ModTime()
	return f.tok, f.err
}

// Rejected makes the next Token read the file again.
func (f *TokenFile) Rejected(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if token == f.tok {
		f.checked, f.size = time.Time{}, -1
	}
}

// readTokenFile reads the token of the file at path (st its Stat). The
// token is never part of an error.
func readTokenFile(path string, st os.FileInfo) (string, error) {
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("upstream token file %s is not a regular file", path)
	}
	if st.Size() > maxTokenFileBytes {
		return "", fmt.Errorf("upstream token file %s holds %d bytes, more than a token (at most %d)", path, st.Size(), maxTokenFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("upstream token file: %w", err)
	}
	tok := bytes.TrimSpace(b)
	switch {
	case len(tok) == 0:
		return "", fmt.Errorf("upstream token file %s is empty", path)
	case bytes.ContainsAny(tok, " \t\r\n\x00"):
		return "", fmt.Errorf("upstream token file %s holds more than one token (white space or lines inside): write the bearer token alone", path)
	case bytes.HasPrefix(bytes.ToLower(tok), []byte("bearer")) && len(tok) == len("bearer"):
		return "", fmt.Errorf("upstream token file %s holds no token", path)
	}
	for _, c := range tok {
		if c < 0x21 || c > 0x7e {
			return "", fmt.Errorf("upstream token file %s holds a byte no bearer token has (RFC 6750: printable ASCII)", path)
		}
	}
	return string(tok), nil
}

// errNoUpstreamToken wraps a credentials failure: the request is not sent.
var errNoUpstreamToken = errors.New("no token for the upstream")

// authTransport sends each request with the upstream credentials' token.
type authTransport struct {
	next  http.RoundTripper
	creds UpstreamCredentials
}

// RoundTrip sends a copy of req with the token; a 401 tells the
// credentials their token was rejected.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.creds.Token(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %w", errNoUpstreamToken, err)
	}
	out := *req
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.Header["Authorization"] = []string{"Bearer " + tok}
	resp, err := t.next.RoundTrip(&out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	t.creds.Rejected(tok)
	// A token the upstream revoked, or that expired early: a read is sent
	// once more with a fresh one, so that the caller is not answered 401
	// for ds4p's credentials. A write is not resent.
	if req.Method != http.MethodGet && req.Method != http.MethodHead || req.Body != nil && req.Body != http.NoBody {
		return resp, nil
	}
	fresh, err := t.creds.Token(req.Context())
	if err != nil || fresh == tok {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	out.Header = out.Header.Clone()
	out.Header["Authorization"] = []string{"Bearer " + fresh}
	resp, err = t.next.RoundTrip(&out)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.creds.Rejected(fresh)
	}
	return resp, err
}

// CloseIdleConnections passes on to the transport below.
func (t *authTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
