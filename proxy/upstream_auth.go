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
	file *credentialFile[string]
}

// NewTokenFile reads the token file at path, and reports why it cannot be
// used (unreadable, empty, not a token).
func NewTokenFile(path string) (*TokenFile, error) {
	f := &TokenFile{file: newCredentialFile(path, "upstream token file", parseToken)}
	if _, err := f.file.get(); err != nil {
		return nil, err
	}
	return f, nil
}

// Token returns the file's token, reading the file again when it changed.
func (f *TokenFile) Token(context.Context) (string, error) {
	return f.file.get()
}

// Rejected makes the next Token read the file again.
func (f *TokenFile) Rejected(token string) {
	f.file.rejected(func(tok string) bool { return tok == token })
}

// parseToken reads a token file's content. The token is never part of an
// error.
func parseToken(b []byte) (string, error) {
	tok := bytes.TrimSpace(b)
	switch {
	case len(tok) == 0:
		return "", errors.New("is empty")
	case bytes.ContainsAny(tok, " \t\r\n\x00"):
		return "", errors.New("holds more than one token (white space or lines inside): write the bearer token alone")
	case bytes.HasPrefix(bytes.ToLower(tok), []byte("bearer")) && len(tok) == len("bearer"):
		return "", errors.New("holds no token")
	}
	for _, c := range tok {
		if c < 0x21 || c > 0x7e {
			return "", errors.New("holds a byte no bearer token has (RFC 6750: printable ASCII)")
		}
	}
	return string(tok), nil
}

// A credentialFile is a file holding one credential ds4p presents to the
// upstream or its token server (a bearer token, a client secret, a
// private key), which a site rotates in place: a secrets mount's symlink
// swap, an agent's rename, an edit. It is looked at again at most once a
// second, and at once after the credential was refused (rejected); when
// its size or modification time changed it is read and parsed again. A
// file that cannot be read or parsed is an error until it is fixed, never
// the credential read before: what ds4p sends is what the file holds now,
// or nothing. No error carries the file's content.
type credentialFile[T any] struct {
	path  string
	what  string                  // the setting, as errors name it
	parse func([]byte) (T, error) // content to credential; errors say what is wrong, not what it holds

	mu      sync.Mutex
	val     T
	err     error
	size    int64
	mod     time.Time
	checked time.Time // the last look; zero: look at the next get
}

// credentialRecheck is how long a credentialFile trusts what it read.
const credentialRecheck = time.Second

// maxCredentialFileBytes bounds a credential file: a JWT, a secret or a
// PEM key of a few KB fits.
const maxCredentialFileBytes = 64 << 10

func newCredentialFile[T any](path, what string, parse func([]byte) (T, error)) *credentialFile[T] {
	return &credentialFile[T]{path: path, what: what, parse: parse}
}

// get returns the file's credential, reading it again when it changed.
func (f *credentialFile[T]) get() (T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if !f.checked.IsZero() && now.Sub(f.checked) < credentialRecheck {
		return f.val, f.err
	}
	f.checked = now
	var zero T
	st, err := os.Stat(f.path)
	if err != nil {
		f.val, f.err, f.size = zero, fmt.Errorf("%s: %w", f.what, err), -1
		return zero, f.err
	}
	if f.err == nil && st.Size() == f.size && st.ModTime().Equal(f.mod) {
		return f.val, nil
	}
	f.size, f.mod = st.Size(), st.ModTime()
	f.val, f.err = zero, nil
	b, err := readCredential(f.path, f.what, st)
	if err == nil {
		f.val, err = f.parse(b)
		if err != nil {
			err = fmt.Errorf("%s %s %w", f.what, f.path, err)
		}
	}
	if err != nil {
		f.val, f.err = zero, err
	}
	return f.val, f.err
}

// rejected makes the next get read the file again when the credential it
// holds is the refused one (stale tells; a credential read since is not
// dropped for an answer to an older one).
func (f *credentialFile[T]) rejected(stale func(T) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil && stale(f.val) {
		f.checked, f.size = time.Time{}, -1
	}
}

// readCredential reads the credential file at path (st its Stat): a
// regular file of at most maxCredentialFileBytes.
func readCredential(path, what string, st os.FileInfo) ([]byte, error) {
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s is not a regular file", what, path)
	}
	if st.Size() > maxCredentialFileBytes {
		return nil, fmt.Errorf("%s %s holds %d bytes, more than a token, key or secret (at most %d)", what, path, st.Size(), maxCredentialFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
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
