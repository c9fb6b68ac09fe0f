package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
)

// DBFile is the bbolt file inside the data directory.
const DBFile = "ds4p.db"

// stack is every stage of a running proxy, wired.
type stack struct {
	db       *bbolt.DB
	consents *consent.Store
	ledger   *audit.Ledger
	engine   *policy.Engine
	server   *proxy.Server
	sealer   *seal.Sealer // nil when encryption at rest is off
	tls      *tls.Config  // the callers' TLS; nil serves plain HTTP
}

// openStack opens the stores, loads the policy and builds the proxy.
func openStack(ctx context.Context, cfg Config, log *slog.Logger) (*stack, error) {
	if err := cfg.preflightFiles(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	// Whoever may write the directory can put their own dev signing key,
	// paging key or database there before ds4p makes them (a root ds4p
	// reads a key file another user made), or swap them between starts.
	// A warning, not a refusal: a Kubernetes emptyDir is 0777 and its
	// single-user container cannot chmod it.
	if fi, err := os.Stat(cfg.DataDir); err == nil && fi.Mode().Perm()&0o002 != 0 {
		log.Warn("data_dir is writable by any user, who can plant keys or a database in it: chmod o-w it, or name a subdirectory (ds4p makes it 0700)",
			"data_dir", cfg.DataDir, "mode", fmt.Sprintf("%#o", fi.Mode().Perm()))
	}
	db, err := openBolt(filepath.Join(cfg.DataDir, DBFile), &bbolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("opening %s: another ds4p holds its lock (serve, or a command on the same data directory)", filepath.Join(cfg.DataDir, DBFile))
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", filepath.Join(cfg.DataDir, DBFile), err)
	}
	// The ledger commits through its own group commit (audit/commit.go),
	// not db.Batch; other writers that use db.Batch (a queue sharing the
	// file) should not wait bbolt's default 10 ms window.
	db.MaxBatchDelay = time.Millisecond
	st := &stack{db: db}
	if err := st.build(ctx, cfg, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	return st, nil
}

// preflightFiles reads the files the settings name that a start would
// stop on once the data directory, database and keys were made (a first
// start then left them behind): the callers' TLS certificate and key and
// client CA, the upstream's CA bundle, the token key file (read as the
// verifier reads it), the storage key file, the paging key file, the
// policy bundle's public key and the SIEM's hash key file (when the SIEM
// hashes patient ids under a named one), and that siem.file can be
// appended to or made. Every
// problem is reported at once, as the settings' are: reported one per
// start, a new user copying deploy/ds4p.yaml with several files missing
// met them one run at a time (QA round 37, area F; round 38, area C).
func (c Config) preflightFiles() error {
	var errs []error
	// A path naming a directory, a FIFO or a device is reported as such
	// and not read: a FIFO without a writer held serve in its open before
	// it reported anything, and a directory of mode 0755 as storage or
	// SIEM hash key was "others may read it; chmod 600 it".
	file := func(setting, path string) bool {
		if err := notAFile(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", setting, err))
			return false
		}
		return true
	}
	if t := c.TLS; t.CertFile != "" && t.KeyFile != "" { // one without the other: a settings problem
		n := len(errs)
		for _, f := range []string{t.CertFile, t.KeyFile} { // each that does not read, then the pair
			if !file("tls: loading cert_file/key_file", f) {
				continue
			}
			if _, err := os.ReadFile(f); err != nil {
				errs = append(errs, fmt.Errorf("tls: loading cert_file/key_file: %w", err))
			}
		}
		if len(errs) == n {
			if _, err := newCertReloader(t.CertFile, t.KeyFile); err != nil {
				errs = append(errs, fmt.Errorf("tls: loading cert_file/key_file: %w", err))
			}
		}
	}
	if f := c.TLS.ClientCAFile; f != "" && file("tls.client_ca_file", f) {
		if _, err := readCAFile(f); err != nil {
			errs = append(errs, fmt.Errorf("tls.client_ca_file: %w", err))
		}
	}
	if f := c.UpstreamCAFile; f == "" || file("upstream_ca_file", f) {
		if _, err := c.upstreamTLS(); err != nil {
			errs = append(errs, err)
		}
	}
	if f := c.Auth.KeyFile; f != "" && file("auth.key_file", f) {
		if err := checkKeyFile(f); err != nil { // config.go
			errs = append(errs, fmt.Errorf("auth.key_file: %w", err))
		}
	}
	if f := c.Storage.KeyFile; f != "" && !c.Storage.off() && file("storage.key_file", f) {
		// A mistyped key file must not leave an empty database behind.
		if _, err := seal.LoadKeyFile(f); err != nil {
			errs = append(errs, fmt.Errorf("storage.key_file: %w", err))
		}
	}
	if f := c.Enforcement.PagingKeyFile; f != "" && file("enforcement.paging_key_file", f) {
		if _, err := pagingKey(c); err != nil { // reads the file named, makes none
			errs = append(errs, fmt.Errorf("enforcement.paging_key_file: %w", err))
		}
	}
	if f := c.Policy.BundlePublicKey; f != "" && file("policy.bundle_public_key", f) {
		// Read as openBundle reads it; it was stat'ed only, and parsed
		// once the data directory was made.
		raw, err := os.ReadFile(f)
		if err == nil {
			_, _, err = bundleVerifyKey(raw)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("policy.bundle_public_key: %w", err))
		}
	}
	if f := c.SIEM.HashKeyFile; f != "" && c.SIEM.enabled() && c.SIEM.PatientIDs == siem.PatientIDsHash && file("siem.hash_key_file", f) {
		if _, err := siemHashKey(c); err != nil { // a file named: read, none made
			errs = append(errs, fmt.Errorf("siem.hash_key_file: %w", err))
		}
	}
	if f := c.SIEM.File; f != "" {
		// Opened only once the store was made: a siem.file in a missing
		// or read-only directory (ProtectSystem=strict) left the data
		// directory, database and keys behind, one problem per start.
		if err := appendable(f, c.DataDir); err != nil {
			errs = append(errs, fmt.Errorf("siem.file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// appendable reports a siem.file the sink could not open, making nothing:
// an existing regular file is opened for appending and closed, a missing
// one needs a directory serve may create it in (a file made there and
// removed), or to be in the data directory dataDir, which a first start
// makes before the sink opens (for a symlink to a missing file, the
// target's directory). A FIFO or a device is left to the sink: closing a
// FIFO's only writer would end its reader; a socket, which no open takes,
// is reported.
func appendable(path, dataDir string) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory: name the file in it", path)
	case err == nil && st.Mode()&os.ModeSocket != 0:
		// Not opened by the sink (ENXIO): /dev/stdout under systemd is
		// the journal's socket.
		return fmt.Errorf("%s is a socket, which cannot be opened as a file: for a syslog socket set siem.syslog (network unix)", path)
	case err == nil && !st.Mode().IsRegular():
		return nil
	case err == nil:
		// As the sink opens it: read-write, since it reads the last byte
		// to end a line a kill cut short (siem/file.go).
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		return f.Close()
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	// A symlink to a missing file: the sink creates the target, in the
	// target's directory, not the link's (bounded: a link may name itself
	// through a missing directory, x/../link).
	for hops := 0; hops < 40; hops++ {
		target, err := os.Readlink(path)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) && sameDir(dir, dataDir) {
		return nil // made with the data directory (0700) before the sink opens
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		if pe := (*os.PathError)(nil); errors.As(err, &pe) { // name the file asked for, not the probe
			err = pe.Err
		}
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	_ = tmp.Close()
	return os.Remove(tmp.Name())
}

// sameDir reports whether a and b name the same directory, spelled
// alike or not (neither need exist).
func sameDir(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	return errA == nil && errB == nil && a == b
}

// notAFile reports a path that names something other than a regular file
// (a symlink to one is one); a path that does not stat is left to its
// reader, which says why.
func notAFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil || st.Mode().IsRegular():
		return nil
	case st.IsDir():
		return fmt.Errorf("%s is a directory: name the file in it", path)
	}
	return fmt.Errorf("%s is not a regular file (%s): name a file", path, st.Mode().Type())
}

func (st *stack) build(ctx context.Context, cfg Config, log *slog.Logger) error {
	sealer, err := openSealer(st.db, cfg.Storage, cfg.DataDir, true) // encryption at rest: keyscmd.go
	if err != nil {
		return err
	}
	st.sealer = sealer
	zone, err := cfg.Consents.dateZone() // before any consent is read for the policy
	if err != nil {
		return err
	}
	consent.SetDateZone(zone)
	if st.consents, err = consent.Open(st.db, consentSealing(sealer)...); err != nil {
		return err
	}
	ledgerOpts := append(auditSealing(sealer), audit.WithJournalSize(cfg.Ledger.JournalBytes))
	// The accounting refuses a prune checkpoint younger than the retention
	// (entries pruned early, or under a shorter retention since), as
	// `ds4p audit report` and `verify` do.
	if keep, err := parseRetention(cfg.Ledger.Retention); err == nil && keep > 0 {
		ledgerOpts = append(ledgerOpts, audit.WithMinRetention(keep))
	}
	if st.ledger, err = audit.Open(st.db, ledgerOpts...); err != nil {
		return err
	}
	if n := st.ledger.Recovered(); n > 0 {
		log.Warn("ledger: stored entries that were durable in the journal when ds4p last stopped without finishing them (a crash)", "entries", n)
	}
	startKeyRotation(ctx, cfg.Storage, cfg.DataDir, sealer, log)
	prot, err := openProtection(ctx, cfg, st.db, st.ledger, sealer, log) // alerts, SIEM export: protection.go
	if err != nil {
		return err
	}
	if st.engine, err = openPolicy(ctx, cfg, log, prot.policyOptions(log)...); err != nil {
		return err
	}
	verifier, err := newVerifier(ctx, cfg)
	if err != nil {
		return err
	}
	if w := unboundTokens(cfg.Auth); w != "" {
		log.Warn(w)
	}
	for _, w := range plainHTTPWarnings(cfg) {
		log.Warn(w)
	}
	opts, err := cfg.proxyOptions()
	if err != nil {
		return err
	}
	if opts.Requests.PagingKey, err = pagingKey(cfg); err != nil {
		return err
	}
	if opts.UpstreamTLS, err = cfg.upstreamTLS(); err != nil {
		return err
	}
	if cfg.UpstreamTokenFile != "" {
		if opts.UpstreamCredentials, err = proxy.NewTokenFile(cfg.UpstreamTokenFile); err != nil {
			return fmt.Errorf("upstream_token_file: %w", err)
		}
	}
	if cfg.UpstreamAuth.set() {
		oauth, err := cfg.upstreamOAuth()
		if err != nil {
			return err
		}
		opts.UpstreamCredentials = oauth
	}
	// A Patient named by another server's absolute URL is not this
	// server's Patient of that id (labels.Options.LocalServer).
	labeller, err := cfg.Labels.labellerFor(proxy.LocalServer(opts.Upstream, opts.UpstreamAliases))
	if err != nil {
		return err
	}
	checks := map[string]func(context.Context) error{"store": st.checkDB, "policy_reload": st.engine.ReadyCheck}
	var certs *certReloader
	if st.tls, certs, err = cfg.serverTLSReloading(); err != nil {
		return err
	} else if certs != nil {
		checks["tls_certificate"] = certs.ReadyCheck
	}
	if rulesCheck := cfg.Labels.watchRules(ctx, labeller, log); rulesCheck != nil {
		checks["label_rules_reload"] = rulesCheck
	}
	if cfg.Auth.JWKSURL != "" {
		checks["jwks"] = verifier.ReadyCheck
	}
	st.server, err = proxy.New(opts, proxy.Deps{
		Labeller: labeller,
		Decider:  st.engine,
		Consents: st.consents,
		Ledger:   prot.ledger(st.ledger),
		Auth:     verifier,
		Logger:   log,
		Checks:   checks,
		Events:   prot.events(),
		Alerts:   prot.alertStore(),
	})
	if err == nil {
		err = st.mountConsole(ctx, cfg, verifier, labeller, log) // consolecmd.go
	}
	if err == nil {
		startLedgerPruner(ctx, cfg, st.ledger, log) // retention: auditcmd.go
	}
	if err == nil {
		err = useConsentSources(ctx, cfg.Consents, st.server) // consentcmd.go
	}
	return err
}

// unboundTokens warns when tokens from an identity provider's keys are
// accepted for any issuer or audience: a shared provider's tokens for
// another application (QA: a payroll app's token) would be accepted here.
func unboundTokens(a AuthConfig) string {
	if a.JWKSURL == "" && a.KeyFile == "" {
		return ""
	}
	var missing []string
	if a.Issuer == "" {
		missing = append(missing, "issuer")
	}
	if a.Audience == "" {
		missing = append(missing, "audience")
	}
	if len(missing) == 0 {
		return ""
	}
	return "auth: no " + strings.Join(missing, " and ") + " configured, so tokens signed by these keys are accepted whatever their " + strings.Join(missing, " and ") + ": set auth.issuer and auth.audience (DS4P_ISSUER, DS4P_AUDIENCE) unless the keys sign tokens for ds4p alone"
}

// plainHTTPWarnings warn of the plain http URLs to other hosts whose
// traffic anyone on the network path can read or change: a JWKS (whoever
// answers in its place chooses the keys tokens are checked with, and so
// mints any token, an admin's included) and the upstream (every record
// crosses the network unencrypted, and answers can be forged). Loopback
// hosts (a sidecar) are quiet; the URLs are shown without credentials or
// query.
func plainHTTPWarnings(cfg Config) []string {
	plain := func(raw string) bool {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" {
			return false
		}
		host := u.Hostname()
		if host == "localhost" {
			return false
		}
		ip := net.ParseIP(host)
		return ip == nil || !ip.IsLoopback()
	}
	var out []string
	if plain(cfg.Auth.JWKSURL) {
		out = append(out, "auth.jwks_url "+shownURL(cfg.Auth.JWKSURL)+" is plain http to another host: anyone on the network path can answer with their own keys and mint any token ds4p accepts, an admin's included; use https")
	}
	if plain(cfg.Upstream) {
		out = append(out, "upstream "+shownURL(cfg.Upstream)+" is plain http to another host: every record crosses the network unencrypted and its answers can be changed on the way; use https (upstream_ca_file for a private CA) unless the network path is protected otherwise")
		if cfg.UpstreamTokenFile != "" {
			out = append(out, "upstream_token_file: the token goes to "+shownURL(cfg.Upstream)+" in plain http, where anyone on the network path can read and reuse it; use https")
		}
		if cfg.UpstreamAuth.set() {
			out = append(out, "upstream_auth: the token ds4p obtains goes to "+shownURL(cfg.Upstream)+" in plain http, where anyone on the network path can read and reuse it until it expires; use https")
		}
	}
	if cfg.TLS.CertFile != "" && plain(cfg.PublicBaseURL) {
		out = append(out, "public_base_url "+shownURL(cfg.PublicBaseURL)+" is plain http while ds4p serves https (tls.cert_file): the page links, fullUrls and Location headers callers are sent point to http, and a caller following them sends its token unencrypted; use https")
	}
	return out
}

func newVerifier(ctx context.Context, cfg Config) (*authn.Verifier, error) {
	ac := authn.Config{
		JWKSURL: cfg.Auth.JWKSURL, KeyFile: cfg.Auth.KeyFile,
		Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, Skew: cfg.Auth.Skew,
		JWKSMinRefresh: cfg.Auth.JWKSMinRefresh, JWKSMaxAge: cfg.Auth.JWKSMaxAge,
		Claims: authn.ClaimNames{
			Purposes: cfg.Auth.PurposeClaims, Org: cfg.Auth.OrgClaim,
			OrgIdentifiers: cfg.Auth.OrgIdentifiersClaim, BreakGlass: cfg.Auth.BreakGlassClaim,
			OrgName: cfg.Auth.OrgNameClaim, OrgAddress: cfg.Auth.OrgAddressClaim,
		},
		ClientPurposes: cfg.Auth.ClientPurposes,
	}
	if cfg.Auth.Dev {
		if _, err := authn.DevSigningKey(cfg.DataDir, true); err != nil {
			return nil, err
		}
		keys, err := authn.DevPublicKeys(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		ac.DevKeys = keys
		if ac.Issuer == "" && cfg.Auth.JWKSURL == "" && cfg.Auth.KeyFile == "" {
			ac.Issuer, ac.Audience = authn.DevIssuer, authn.DevAudience
		}
	}
	return authn.NewVerifier(ctx, ac)
}

func (st *stack) checkDB(context.Context) error {
	if st.ledger != nil {
		if err := st.ledger.Err(); err != nil {
			return err
		}
	}
	return st.db.View(func(*bbolt.Tx) error { return nil })
}

func (st *stack) Close() error {
	if st == nil || st.db == nil {
		return nil
	}
	var err error
	if st.server != nil {
		st.server.Flush() // withheld responses' entries still being written
	}
	if st.ledger != nil {
		// Stores what the journal holds and leaves the file fully
		// indexed, as an older ds4p expects.
		err = st.ledger.Close()
	}
	return errors.Join(err, st.db.Close())
}

// PagingKeyFile is the page-link secret inside the data directory.
const PagingKeyFile = "paging.key"

// pagingKey reads the secret page links are sealed with: the configured
// file, or paging.key in the data directory, made (32 random bytes, 0600)
// on first start, so that page links outlive a restart.
func pagingKey(cfg Config) ([]byte, error) {
	path := cfg.Enforcement.PagingKeyFile
	if path == "" {
		path = filepath.Join(cfg.DataDir, PagingKeyFile)
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(key)
			if err == nil {
				err = f.Sync() // a crash must not leave a short key that refuses the next start
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("writing the paging key %s: %w", path, err)
			}
		} else if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating the paging key %s: %w", path, err)
		}
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the paging key: %w", err)
	}
	// Whoever reads the key can mint page links for any caller binding it
	// can compute, and open every link's sealed query (which can name a
	// patient): as the SIEM hash key, it must be the service's alone.
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("reading the paging key: %w", err)
	} else if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("paging key %s has mode %#o: others may read it; chmod 600 it", path, perm)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("paging key %s: %s, at least 32 are needed", path, plural(len(key), "byte", "bytes"))
	}
	return key, nil
}

// validateAuthTLS checks the TLS settings and the JWKS timings.
func (c Config) validateAuthTLS() []error {
	var errs []error
	t := c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file go together"))
	}
	if (t.ClientCAFile != "" || t.RequireClientCert) && t.CertFile == "" {
		errs = append(errs, errors.New("tls: client certificates need cert_file and key_file (the proxy must serve HTTPS)"))
	}
	if t.RequireClientCert && t.ClientCAFile == "" {
		errs = append(errs, errors.New("tls: require_client_cert needs client_ca_file"))
	}
	if c.Auth.JWKSMinRefresh < 0 || c.Auth.JWKSMaxAge < 0 {
		errs = append(errs, errors.New("auth: jwks_min_refresh and jwks_max_age must not be negative"))
	}
	for _, p := range c.Auth.PurposeClaims {
		if strings.TrimSpace(p) == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
			errs = append(errs, fmt.Errorf("auth.purpose_claims: %q is not a claim path", p))
		}
	}
	for _, client := range slices.Sorted(maps.Keys(c.Auth.ClientPurposes)) {
		if strings.TrimSpace(client) == "" {
			errs = append(errs, errors.New("auth.client_purposes: a client id is empty"))
		}
		for _, p := range c.Auth.ClientPurposes[client] {
			// A misspelt purpose would refuse the client what it is given.
			if code := authn.NormalizePurpose(p); !labels.KnownPurpose(code) {
				msg := fmt.Sprintf("auth.client_purposes.%s: %q is not a v3-PurposeOfUse code", client, p)
				if s := labels.SuggestCode(labels.SystemActReason, p); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				errs = append(errs, errors.New(msg))
			}
		}
	}
	return errs
}

// serverTLS is the callers' TLS configuration; nil serves plain HTTP. With
// require_client_cert a connection without a client certificate signed by
// client_ca_file fails in the handshake, before any HTTP; with only
// client_ca_file a certificate is optional but verified when sent.
func (c Config) serverTLS() (*tls.Config, error) {
	tc, _, err := c.serverTLSReloading()
	return tc, err
}

// serverTLSReloading is serverTLS with the certificate and key read again
// when their files change (certReloader), and the reloader, whose
// ReadyCheck says when the certificate served has expired.
func (c Config) serverTLSReloading() (*tls.Config, *certReloader, error) {
	t := c.TLS
	if t.CertFile == "" {
		return nil, nil, nil
	}
	certs, err := newCertReloader(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: loading cert_file/key_file: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get, NextProtos: []string{"h2", "http/1.1"}}
	if t.ClientCAFile != "" {
		pool, err := readCAFile(t.ClientCAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		if t.RequireClientCert {
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return tc, certs, nil
}

// certReloader serves tls.cert_file/key_file and reads them again, at
// most once a second, when their contents change: a certificate renewed
// in place (cert-manager, certbot) is served without a restart. A pair
// that does not load (half written, key and certificate not matching)
// keeps the previous one and is tried again.
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	sum     [32]byte
	checked time.Time
	err     error // the last reload's failure; nil once one loads
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, every: time.Second, now: time.Now}
	sum, err := r.contents()
	if err != nil {
		return nil, err
	}
	if err := r.load(sum); err != nil {
		return nil, err
	}
	r.checked = r.now()
	return r, nil
}

// contents is the hash of both files' bytes.
func (r *certReloader) contents() ([32]byte, error) {
	h := sha256.New()
	for _, f := range []string{r.certFile, r.keyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return [32]byte{}, err
		}
		h.Write(b)
		h.Write([]byte{0})
	}
	return [32]byte(h.Sum(nil)), nil
}

func (r *certReloader) load(sum [32]byte) error {
	pair, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.sum, r.err = &pair, sum, nil
	return nil
}

// current is the certificate to serve, read again first when due.
func (r *certReloader) current() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= r.every {
		r.checked = now
		sum, err := r.contents()
		switch {
		case err != nil:
			r.err = err
		case sum != r.sum:
			if err := r.load(sum); err != nil {
				r.err = err
			}
		}
	}
	return r.cert
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.current(), nil
}

// degradedError is a readiness problem reported as warn (proxy readyz).
type degradedError struct{ error }

func (degradedError) Degraded() bool { return true }

// ReadyCheck fails once the certificate served has expired (every caller's
// handshake fails then) and warns while a changed pair does not load.
func (r *certReloader) ReadyCheck(context.Context) error {
	cert := r.current()
	r.mu.Lock()
	err := r.err
	r.mu.Unlock()
	if cert.Leaf != nil && r.now().After(cert.Leaf.NotAfter) {
		return fmt.Errorf("tls.cert_file: the certificate served expired at %s", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return degradedError{fmt.Errorf("tls.cert_file/key_file changed but do not load (the previous certificate is served): %v", err)}
	}
	return nil
}

// upstreamTLS trusts upstream_ca_file for an https upstream; nil uses the
// system roots.
func (c Config) upstreamTLS() (*tls.Config, error) {
	if c.UpstreamCAFile == "" {
		return nil, nil
	}
	pool, err := readCAFile(c.UpstreamCAFile)
	if err != nil {
		return nil, fmt.Errorf("upstream_ca_file: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

func readCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// upstreamOAuth is ds4p's OAuth client to the upstream (upstream_auth).
// Its token requests trust the system roots and upstream_ca_file's CAs
// (the token endpoint is often the EHR's own host, under its private CA).
func (c Config) upstreamOAuth() (*proxy.ClientCredentials, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	if c.UpstreamCAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		b, err := os.ReadFile(c.UpstreamCAFile)
		if err != nil {
			return nil, fmt.Errorf("upstream_ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("upstream_ca_file: %s holds no PEM certificate", c.UpstreamCAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
		hc.Transport = tr
	}
	oauth, err := c.UpstreamAuth.credentials(hc)
	if err != nil {
		return nil, fmt.Errorf("upstream_auth: %w", err)
	}
	return oauth, nil
}
