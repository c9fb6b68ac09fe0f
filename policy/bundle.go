package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"
)

// OPA bundles. A fleet of proxies can take its policy from an OPA bundle
// (a gzipped tarball of Rego modules and data.json, see
// https://www.openpolicyagent.org/docs/management-bundles) served over HTTP.
// WatchBundle polls it with If-None-Match; a bundle that fails to download,
// to verify its signature, to compile, to pass its own Rego tests (bundle
// modules named *_test.rego) or to validate its policy data against
// schema/config.schema.json is rejected, and the revision in force keeps
// serving (Status, ReadyCheck, the log and the ds4p.policy.loads metric say
// so), exactly as for a policy directory.
//
// With a verification key configured, a bundle must carry a valid
// .signatures.json (OPA bundle signing: a JWT over the hashes of every file
// of the bundle): an unsigned bundle, a file not covered by the signature
// or a file whose hash differs is rejected. BuildBundle (and `ds4p policy
// build`) writes such bundles; `opa build --signing-key` does too.

// DefaultBundlePoll is how often WatchBundle asks for a new bundle.
const DefaultBundlePoll = 30 * time.Second

// DefaultMaxBundleBytes bounds a downloaded bundle, and each file in it
// once decompressed.
const DefaultMaxBundleBytes = 32 << 20

// DefaultMaxBundleUnpackedBytes bounds a bundle once decompressed: all its
// files together, with their tar headers.
const DefaultMaxBundleUnpackedBytes = 64 << 20

// maxBundleEntries bounds the number of entries of a bundle's tarball (the
// default policy has a few dozen files).
const maxBundleEntries = 10_000

// BundleSource says where a bundle comes from and how it is checked.
type BundleSource struct {
	// URL of the bundle (http or https).
	URL string
	// Client fetches it (default: a client with a 30 s timeout).
	Client *http.Client
	// Verification, when set, requires a valid signature (see
	// NewBundleVerification); nil accepts unsigned bundles and ignores
	// signatures.
	Verification *bundle.VerificationConfig
	// Schemas supplies schema/*.json to bundles that carry none (a bundle
	// holds only modules and data): the policy data is validated against
	// the proxy's own contract.
	Schemas fs.FS
	// MaxBytes bounds the download (default DefaultMaxBundleBytes).
	MaxBytes int64
	// MaxUnpackedBytes bounds the bundle once decompressed (default
	// DefaultMaxBundleUnpackedBytes).
	MaxUnpackedBytes int64
	// Newest, with Verification, refuses a signed bundle built before the
	// newest one loaded (a replay of an older bundle), see bundleage.go;
	// nil loads any validly signed bundle.
	Newest *BundleHighWater

	startAge bundleAge // the bundle FetchBundle read
}

// NewBundleVerification returns the verification of bundles signed with
// the private key of publicKeyPEM (a PEM public key; RS256 unless alg says
// otherwise) under key id keyID (default "default").
func NewBundleVerification(publicKeyPEM []byte, keyID, alg string) (*bundle.VerificationConfig, error) {
	if keyID == "" {
		keyID = "default"
	}
	if alg == "" {
		alg = "RS256"
	}
	if !bytes.Contains(publicKeyPEM, []byte("-----BEGIN")) {
		return nil, errors.New("policy: the bundle verification key is not a PEM public key")
	}
	// Not keys.NewKeyConfig: it first tries the key as a file name, and a
	// PEM whose base64 holds a run of more than 255 characters without a
	// slash fails that stat with "file name too long" (about one key in
	// three).
	kc := &keys.Config{Key: string(publicKeyPEM), Algorithm: alg}
	return bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{keyID: kc}, keyID, "", nil), nil
}

// BundleSigning is the key BuildBundle signs with.
type BundleSigning struct {
	PrivateKeyPEM []byte
	KeyID         string // default "default"
	Algorithm     string // default RS256
}

// BuildBundle writes the policy tree fsys (every module, tests included, and
// its data documents) as an OPA bundle, gzipped, with the tree's Revision as
// the bundle revision and the time it was built (bundleage.go), signed when
// signing is set.
func BuildBundle(fsys fs.FS, signing *BundleSigning) ([]byte, error) {
	return buildBundleAt(fsys, signing, time.Now())
}

// buildBundleAt is BuildBundle for a bundle built at the time at.
func buildBundleAt(fsys fs.FS, signing *BundleSigning, at time.Time) ([]byte, error) {
	fsys, err := snapshot(fsys) // what is checked, named and packed is one reading
	if err != nil {
		return nil, err
	}
	res, err := loadTree(fsys, true)
	if err != nil {
		return nil, err
	}
	rev, err := Revision(fsys)
	if err != nil {
		return nil, err
	}
	// The build time, signed with the rest (bundleage.go): a proxy refuses
	// a bundle older than one it has loaded.
	b := bundle.Bundle{Data: res.Documents, Manifest: bundle.Manifest{Revision: rev}}
	if !at.IsZero() { // zero: as `opa build` writes it (tests)
		b.Manifest.Metadata = map[string]any{BuiltAtKey: at.UTC().Format(time.RFC3339Nano)}
	}
	if b.Data == nil {
		b.Data = map[string]any{}
	}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	for name, m := range res.Modules {
		p := "/" + strings.TrimPrefix(path.Clean(name), "/")
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: p, Path: p, RelativePath: p, Raw: m.Raw, Parsed: m.Parsed})
	}
	if signing != nil {
		keyID, alg := signing.KeyID, signing.Algorithm
		if keyID == "" {
			keyID = "default"
		}
		if alg == "" {
			alg = "RS256"
		}
		sc := bundle.NewSigningConfig(string(signing.PrivateKeyPEM), alg, "")
		if err := b.GenerateSignature(sc, keyID, true); err != nil {
			return nil, fmt.Errorf("policy: signing the bundle: %w", err)
		}
	}
	var out bytes.Buffer
	if err := bundle.NewWriter(&out).UseModulePath(true).DisableFormat(true).Write(b); err != nil {
		return nil, fmt.Errorf("policy: writing the bundle: %w", err)
	}
	return out.Bytes(), nil
}

// ReadBundle reads a gzipped bundle, verifies it when verification is set,
// and returns it as a policy tree: its modules at their paths, its data as
// data.json at the root, and schema/*.json from schemas when the bundle
// carries none. The bundle is refused when, decompressed, it holds more
// than DefaultMaxBundleUnpackedBytes, a file of more than
// DefaultMaxBundleBytes or more than 10,000 entries.
func ReadBundle(raw []byte, verification *bundle.VerificationConfig, schemas fs.FS) (fs.FS, error) {
	fsys, _, err := readBundle(raw, verification, schemas, DefaultMaxBundleUnpackedBytes)
	return fsys, err
}

// bundleAge is when a bundle was built, as its manifest says (bundleage.go).
type bundleAge struct {
	at  time.Time
	has bool
}

func readBundle(raw []byte, verification *bundle.VerificationConfig, schemas fs.FS, maxUnpacked int64) (fs.FS, bundleAge, error) {
	// OPA's tarball loader reads every file into memory, with a buffer
	// sized by the size the file's tar header claims, before it applies
	// its size limit and before the signature is checked: a bundle of a
	// few hundred bytes claiming a file of a terabyte, or a gzip bomb,
	// would exhaust the proxy's memory at every poll, signing key or not.
	// The archive is walked here first, reading nothing into memory.
	if err := checkArchive(raw, maxUnpacked); err != nil {
		return nil, bundleAge{}, err
	}
	// Each file of the bundle, decompressed, is bounded too.
	r := bundle.NewReader(bytes.NewReader(raw)).WithRegoVersion(ast.RegoV1).WithSizeLimitBytes(DefaultMaxBundleBytes)
	if verification != nil {
		r = r.WithBundleVerificationConfig(verification)
	} else {
		r = r.WithSkipBundleVerification(true)
	}
	b, err := r.Read()
	if err != nil && verification != nil && strings.Contains(err.Error(), "verif") {
		// OPA's words ("failed to verify JWT signature: crypto/rsa:
		// verification error") do not say what to check.
		return nil, bundleAge{}, fmt.Errorf("policy: the bundle's signature does not verify with the configured public key (policy.bundle_public_key, key id %q): signed with another key, or altered: %w", verification.KeyID, err)
	}
	if err != nil {
		return nil, bundleAge{}, fmt.Errorf("policy: reading the bundle: %w", err)
	}
	if verification != nil && len(b.Signatures.Signatures) == 0 {
		return nil, bundleAge{}, errors.New("policy: the bundle is not signed")
	}
	var age bundleAge
	if age.at, age.has, err = builtAt(b.Manifest); err != nil {
		return nil, bundleAge{}, err
	}
	out := fstest.MapFS{}
	for _, m := range b.Modules {
		p := strings.TrimPrefix(path.Clean("/"+m.Path), "/")
		if p == "" || p == "." || !fs.ValidPath(p) {
			return nil, bundleAge{}, fmt.Errorf("policy: bundle module path %q is not valid", m.Path)
		}
		out[p] = &fstest.MapFile{Data: m.Raw, Mode: 0o444}
	}
	if len(b.Data) > 0 {
		data, err := json.Marshal(b.Data)
		if err != nil {
			return nil, bundleAge{}, fmt.Errorf("policy: bundle data: %w", err)
		}
		out["data.json"] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	if schemas != nil {
		names, _ := fs.Glob(schemas, "schema/*.json")
		for _, n := range names {
			if _, ok := out[n]; ok {
				continue
			}
			data, err := fs.ReadFile(schemas, n)
			if err != nil {
				return nil, bundleAge{}, err
			}
			out[n] = &fstest.MapFile{Data: data, Mode: 0o444}
		}
	}
	return out, age, nil
}

// checkArchive walks the gzipped tarball raw without keeping its content
// and refuses it when, decompressed, it holds more than maxUnpacked bytes,
// an entry claiming more than DefaultMaxBundleBytes (or a negative size),
// or more than maxBundleEntries entries.
func checkArchive(raw []byte, maxUnpacked int64) error {
	if maxUnpacked <= 0 {
		maxUnpacked = DefaultMaxBundleUnpackedBytes
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("policy: reading the bundle: it is not a gzipped tarball: %w", err)
	}
	defer zr.Close()
	// One byte more than allowed tells a bundle of exactly maxUnpacked
	// bytes from a larger one.
	lr := &io.LimitedReader{R: zr, N: maxUnpacked + 1}
	tooLarge := func() error {
		return fmt.Errorf("policy: the bundle is refused: decompressed it holds more than %d bytes (a bundle that is not a policy, or a decompression bomb)", maxUnpacked)
	}
	tr := tar.NewReader(lr)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if lr.N <= 0 {
			return tooLarge()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("policy: reading the bundle: %w", err)
		}
		if n >= maxBundleEntries {
			return fmt.Errorf("policy: the bundle is refused: it holds more than %d files", maxBundleEntries)
		}
		if h.Size < 0 || h.Size > DefaultMaxBundleBytes {
			return fmt.Errorf("policy: the bundle is refused: its file %q claims %d bytes, more than the %d a bundle file may hold", h.Name, h.Size, DefaultMaxBundleBytes)
		}
		if h.Size > lr.N {
			return tooLarge()
		}
		// Reading the content checks that the file holds what its header
		// claims: OPA sizes its buffer by the header.
		if _, err := io.Copy(io.Discard, tr); err != nil {
			if lr.N <= 0 {
				return tooLarge()
			}
			return fmt.Errorf("policy: reading the bundle: file %q: %w", h.Name, err)
		}
	}
}

// bundleFetch is the result of one poll.
type bundleFetch struct {
	fsys        fs.FS
	etag        string
	notModified bool
	// digest is the SHA-256 of the bundle downloaded, set when it was read
	// or refused whole (wholeArchive).
	digest [32]byte
	// unchanged: the bundle downloaded is the one refused last (its digest
	// is the failed one fetch was given); it was not read again.
	unchanged bool
	// age is when the bundle read was built (bundleage.go).
	age bundleAge
}

// fetch downloads the bundle unless its ETag is still etag. A bundle whose
// digest is failed (the one refused last, from a server that sends no
// ETag or a new one for the same bytes) is not read again: unchanged.
func (s *BundleSource) fetch(ctx context.Context, etag string, failed [32]byte) (bundleFetch, error) {
	client := s.client()
	limit := s.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBundleBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return bundleFetch{}, fmt.Errorf("policy: bundle request: %w", err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	req.Header.Set("Accept", "application/gzip, application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		return bundleFetch{}, fmt.Errorf("policy: downloading the bundle: %w", redactURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		if etag == "" {
			// Not modified since nothing: there is no bundle to keep
			// serving, and at start there would be no policy at all.
			return bundleFetch{}, errors.New("policy: downloading the bundle: the server answered 304 Not Modified to a request that named no bundle (no If-None-Match): it sent no bundle")
		}
		return bundleFetch{etag: etag, notModified: true}, nil
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return bundleFetch{}, fmt.Errorf("policy: downloading the bundle: the server answered %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return bundleFetch{}, fmt.Errorf("policy: downloading the bundle: %w", redactURL(err))
	}
	if int64(len(raw)) > limit {
		return bundleFetch{}, fmt.Errorf("policy: the bundle is larger than %d bytes", limit)
	}
	digest := sha256.Sum256(raw)
	if failed != ([32]byte{}) && digest == failed {
		return bundleFetch{etag: resp.Header.Get("ETag"), digest: digest, unchanged: true}, nil
	}
	fsys, age, err := readBundle(raw, s.Verification, s.Schemas, s.MaxUnpackedBytes)
	if err == nil && s.Verification != nil && s.Newest != nil {
		// Built in the future: its time would become the newest and
		// refuse every bundle built correctly until then. Refused, and
		// downloaded again at the next poll (no ETag or digest kept): it
		// loads once the clocks agree (bundleage.go).
		if err := builtAhead(age, time.Now()); err != nil {
			return bundleFetch{}, err
		}
		// Signed, but older than a bundle already loaded: refused whole,
		// like a bad signature (bundleage.go).
		if err := s.Newest.check(age.at, age.has); err != nil {
			return bundleFetch{etag: resp.Header.Get("ETag"), digest: digest}, err
		}
	}
	if err != nil {
		// A bundle that did not read may be a download cut short (a body
		// ended early on a connection without Content-Length), and
		// If-None-Match would keep the whole one from ever being fetched
		// (304) until it changes: it keeps no ETag. One that is whole (its
		// gzip stream ends with its checksum) is the bundle the server
		// holds, refused for what it is (a signature that does not
		// verify, a file the signature does not cover): it keeps its ETag
		// and digest, so it is not downloaded and checked again at every
		// poll until it changes (QA round 21), as one that reads but fails
		// to load (bundleWatch.poll).
		if wholeArchive(raw, s.MaxUnpackedBytes) {
			return bundleFetch{etag: resp.Header.Get("ETag"), digest: digest}, err
		}
		return bundleFetch{}, err
	}
	return bundleFetch{fsys: fsys, etag: resp.Header.Get("ETag"), digest: digest, age: age}, nil
}

// wholeArchive reports whether raw is a whole gzip stream: it decompresses
// to its end, checksum and length verified, or to more than maxUnpacked
// bytes (a bundle refused as too large, which the rest of a download cut
// short could only make larger).
func wholeArchive(raw []byte, maxUnpacked int64) bool {
	if maxUnpacked <= 0 {
		maxUnpacked = DefaultMaxBundleUnpackedBytes
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	defer zr.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(zr, maxUnpacked+1))
	return n > maxUnpacked || err == nil
}

// client is the HTTP client that fetches the bundle: Client, or one with
// a 30 s timeout, refusing a redirect from https to plain http for an
// unsigned bundle (checkRedirect).
func (s *BundleSource) client() *http.Client {
	c := http.Client{Timeout: 30 * time.Second}
	if s.Client != nil {
		c = *s.Client
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := s.checkRedirect(req, via); err != nil {
			return err
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

// checkRedirect refuses a redirect of an unsigned bundle's https URL to
// plain http: https without a verification key trusts the server TLS
// authenticates, and the plain leg would let anyone on its network path
// replace the policy, while serve warns of plain http only for the URL
// configured (QA round 20). The target is not named: it may carry
// credentials in its query. A signed bundle may be fetched from anywhere.
func (s *BundleSource) checkRedirect(req *http.Request, via []*http.Request) error {
	if s.Verification != nil || len(via) == 0 {
		return nil
	}
	for _, r := range via {
		if r.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return errors.New("the bundle server redirected from https to plain http, where anyone on the network path could replace an unsigned bundle: serve it over https throughout, or sign it and set policy.bundle_public_key")
		}
	}
	return nil
}

// redactURL strips the URL from a client error: a bundle URL may carry
// credentials in its query.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// FetchBundle downloads, verifies and reads the bundle once, for the
// engine's first load; it returns the policy tree and the bundle's ETag.
func FetchBundle(ctx context.Context, src *BundleSource) (fs.FS, string, error) {
	f, err := src.fetch(ctx, "", [32]byte{})
	if err != nil {
		return nil, "", err
	}
	if f.fsys == nil { // the engine must not start without a policy
		return nil, "", errors.New("policy: downloading the bundle: no bundle was received")
	}
	// Its build time becomes the newest once it serves: WatchBundle, which
	// the caller starts after the engine loaded it.
	src.startAge = f.age
	return f.fsys, f.etag, nil
}

// WatchBundle polls the bundle every interval (DefaultBundlePoll when <= 0)
// until ctx ends, sending the ETag of the last bundle it attempted as
// If-None-Match, and loads each new bundle. A bundle that fails to
// download, verify, compile, pass its tests or validate its data is
// rejected (once per distinct failure in the log and metric) and the
// revision in force keeps serving; a bundle the server still answers with
// the same ETag is not attempted again, and one refused whole (a signature
// that does not verify) is not downloaded again while the server answers
// its ETag with 304, nor read again while its bytes are the same.
func (e *Engine) WatchBundle(ctx context.Context, src *BundleSource, etag string, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultBundlePoll
	}
	w := &bundleWatch{e: e, src: src, etag: etag, servingETag: etag}
	w.loaded(src.startAge) // the bundle the engine started with
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx)
		}
	}
}

type bundleWatch struct {
	e       *Engine
	src     *BundleSource
	etag    string // ETag of the last bundle attempted
	lastErr string // the failure last reported, reported once
	// failedRev is the treeKey (revision and Rego tests) of the last
	// bundle that failed to load.
	failedRev string
	// failedDigest is the SHA-256 of the last bundle refused whole, before
	// it was loaded (its signature, its files); zero when none.
	failedDigest [32]byte
	// servingETag is the ETag of the bundle in force ("" when unknown): a
	// 304 to it says the server still holds that bundle.
	servingETag string
	// age is the build time of the newest bundle loaded; keepErr the
	// failure to keep it last logged.
	age     bundleAge
	keepErr string
}

// loaded raises the newest build time to that of a bundle now serving;
// one that cannot be kept on disk is kept in memory and logged (a restart
// would then accept bundles older than this one).
func (w *bundleWatch) loaded(age bundleAge) {
	follow := w.src.Newest != nil && w.src.Newest.follow
	if follow || (age.has && age.at.After(w.age.at)) {
		w.age = age // a mark that follows keeps the bundle in force
	}
	if w.src.Newest == nil || w.src.Verification == nil || (!age.has && !follow) {
		return
	}
	at := age.at
	if !age.has {
		at = time.Time{}
	}
	err := w.src.Newest.raise(at)
	switch {
	case err == nil:
		w.keepErr = ""
	case err.Error() != w.keepErr: // once, not at every poll that tries again
		w.keepErr = err.Error()
		w.e.log.Warn("policy: the newest bundle's build time could not be kept; after a restart older signed bundles would load again", "error", err.Error())
	}
}

func (w *bundleWatch) poll(ctx context.Context) {
	f, err := w.src.fetch(ctx, w.etag, w.failedDigest)
	if f.etag != "" {
		w.etag = f.etag
	}
	if err == nil && (f.notModified || f.unchanged) {
		// The bundle in force, or the one refused last, whose refusal
		// stands (Status, /readyz). Its build time is kept again if
		// keeping it failed.
		w.loaded(w.age)
		if f.notModified && w.etag != "" && w.etag == w.servingETag && w.lastErr != "" {
			// The server holds the bundle in force again: the failure
			// reported since (a download that failed) is over, which
			// /readyz kept reporting until a new bundle was published.
			w.lastErr = ""
			w.e.clearRejection()
		}
		return
	}
	w.failedDigest = [32]byte{}
	if err != nil {
		w.failedDigest = f.digest // zero for a bundle that was not whole
	}
	if err == nil {
		// A server without ETags sends the same bundle again: a bundle
		// that failed is not attempted twice (but is once its tests
		// change, treeKey).
		key, kerr := treeKey(f.fsys)
		if kerr == nil && key == w.failedRev {
			return
		}
		if err = w.e.Load(ctx, f.fsys); err == nil {
			w.lastErr, w.failedRev, w.servingETag = "", "", f.etag
			w.loaded(f.age)
			return
		}
		w.lastErr = err.Error() // Load reported it
		w.failedRev = key
		return
	}
	if err.Error() != w.lastErr {
		w.lastErr = err.Error()
		_ = w.e.reject("", err)
	}
}
