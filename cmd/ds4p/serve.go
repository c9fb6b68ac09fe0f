package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ds4p/ds4p/internal/heapfloor"
	"github.com/ds4p/ds4p/proxy"
	"go.opentelemetry.io/otel"
)

const serveHelp = `Runs the proxy in front of a FHIR R4 server. The FHIR API is served under
/fhir/ (bearer token with SMART scopes, e.g. user/*.read or patient/*.rs with
a patient claim), the admin API under /admin/ (roles: ds4p/consent-manager
for /admin/Consent, ds4p/policy-author for /admin/policy and /admin/decide,
ds4p/auditor for /admin/audit and /admin/alerts), the web console at
/console/ (sign in with an admin token; each role sees its own pages),
health at /healthz and /readyz. SMART apps find your authorization server at
/fhir/.well-known/smart-configuration once auth.smart_configuration names its
discovery document (else 404). Callers are rate-limited and bulk pulls
raise alerts (protection: in the config); siem: streams the ledger and
security events to a file, syslog or OpenTelemetry logs.

With --tls-cert/--tls-key it serves HTTPS; with --tls-client-ca and
--tls-require-client-cert every caller must present a client certificate
signed by that CA, and a token's client_id must name the certificate (its
first URI SAN, else its subject CN).

Configuration comes from a YAML file (--config or DS4P_CONFIG; unknown keys
are rejected), then DS4P_* environment variables, then flags. Every problem
is reported at once. OpenTelemetry traces are exported over OTLP/HTTP when
OTEL_EXPORTER_OTLP_ENDPOINT is set; with siem.otel on, the SIEM records go
as OpenTelemetry logs over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT/v1/logs
or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (one of them is then required).`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		c := defaultConfig()
		fs := newFlagSet("serve", serveHelp, stdout)
		fs.String("config", "", "YAML configuration file")
		c.bindFlags(fs)
		fs.Usage()
		return nil
	}
	cfg, err := buildConfig(args, os.Environ())
	if err != nil {
		return err
	}
	// The files the settings name are read, not only found, before the
	// data directory is touched, and their problems reported with the
	// settings' (stack.go preflightFiles).
	if err := errors.Join(cfg.Validate(), cfg.preflightFiles()); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	if len(cfg.overrides) > 0 {
		// Precedence is documented, but a variable left in an image or a
		// unit file replaces what the file says without a sign otherwise.
		log.Info("environment variables override the config file", "settings", strings.Join(cfg.overrides, ", "))
	}
	// First, while the heap is fresh: the ballast must be untouched memory.
	heapFloor := applyHeapFloor(cfg.HeapFloorBytes, os.Getenv("GOGC"), log)
	stdlog.SetOutput(proxy.WithheldQuotes(stderr)) // net/http logs upstream bytes quoted
	otel.SetErrorHandler(&otelErrors{log: log, now: time.Now})
	shutdown, err := setupTelemetry(ctx)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	// Before the stack (the SIEM sink logs through it); its deferred
	// shutdown runs after st.Close, flushing the last batched records.
	shutdownLogs, err := setupSIEMLogs(ctx, cfg.SIEM)
	if err != nil {
		return fmt.Errorf("siem: %w", err)
	}
	defer logSIEMFlush(log, shutdownLogs) // otel.go
	st, err := openStack(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	tlsConf := st.tls
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return listenError(cfg.Listen, err)
	}
	scheme := "http"
	if tlsConf != nil {
		ln, scheme = tls.NewListener(ln, tlsConf), "https"
	}
	for _, w := range devAuthWarnings(cfg, ln.Addr(), tlsConf != nil) {
		log.Warn(w, "listen", ln.Addr().String())
	}
	// The data directory as a path from /: a relative data_dir is taken
	// from the working directory (/ under systemd without
	// WorkingDirectory=), not from the config file's.
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		dataDir = cfg.DataDir
	}
	log.Info("ds4p serving", "listen", ln.Addr().String(), "data_dir", dataDir, "policy_revision", st.engine.Revision(), "dev_auth", cfg.Auth.Dev,
		"tls", tlsConf != nil, "client_certs_required", cfg.TLS.RequireClientCert, "heap_floor_bytes", heapFloor)
	stopHangups := ignoreHangups(log)
	defer stopHangups()
	fmt.Fprintf(stdout, "ds4p listening on %s://%s/fhir (upstream %s)\n", scheme, ln.Addr(), cfg.Upstream)
	return serveHTTP(ctx, ln, st.server.Handler(), cfg.Limits.UpstreamTimeout)
}

// listenError says which setting the address that could not be bound
// came from and what to do: net's own "listen tcp 127.0.0.1:8080: bind:
// address already in use" names neither.
func listenError(addr string, err error) error {
	const where = "(--listen, DS4P_LISTEN or listen: in the config file)"
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen: %s is in use by another process (another ds4p?): stop it or choose another address %s", addr, where)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen: %s: a port under 1024 needs privileges (CAP_NET_BIND_SERVICE): choose a port above 1023 %s or grant the capability", addr, where)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("listen: %s is not an address of this machine: choose one of its addresses, 0.0.0.0 for all %s", addr, where)
	}
	return fmt.Errorf("listen: %w", err)
}

// ignoreHangups keeps a SIGHUP (systemctl reload, kill -HUP, the habit of
// other daemons) from killing serve mid-request, which is what Go does by
// default: the configuration is read at start only, and the policy and
// label rules reload by themselves. It logs why nothing happened.
func ignoreHangups(log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				log.Warn("SIGHUP ignored: ds4p reads its configuration at start only, restart it to apply a change; policy_dir, policy.bundle_url and labels.rules_dir are reloaded without a signal")
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

// devAuthWarnings are the warnings serve logs when dev auth is on where it
// may not be development: on an address other machines can reach (with TLS
// too: whoever reads the data directory's dev signing key, or runs ds4p
// token on it, mints tokens with any role, purpose and patient), or beside
// an identity provider's keys (production tokens and dev tokens both
// accepted).
func devAuthWarnings(cfg Config, addr net.Addr, tls bool) []string {
	if !cfg.Auth.Dev {
		return nil
	}
	var out []string
	if tcp, ok := addr.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		w := "dev auth (auth.dev, --dev-auth, DS4P_DEV_AUTH) on a non-loopback address: tokens signed with the data directory's dev signing key (ds4p token) are trusted, with any role, purpose and patient; for development only"
		if !tls {
			w += "; and without TLS, anyone on the network path can read and reuse them"
		}
		out = append(out, w)
	}
	if cfg.Auth.JWKSURL != "" || cfg.Auth.KeyFile != "" {
		out = append(out, "dev auth (auth.dev, --dev-auth, DS4P_DEV_AUTH) is on beside auth.jwks_url or auth.key_file: tokens signed with the data directory's dev signing key are trusted as well as the identity provider's; turn dev auth off in production")
	}
	return out
}

// applyHeapFloor sets the collector's heap floor (heap_floor_bytes) unless
// the operator tuned the collector with GOGC, and returns the floor in
// effect.
func applyHeapFloor(bytes int64, gogc string, log *slog.Logger) int64 {
	if gogc != "" {
		if bytes > 0 {
			log.Info("GOGC is set: heap_floor_bytes is not applied", "GOGC", gogc)
		}
		return heapfloor.Set(0)
	}
	got := heapfloor.Set(bytes)
	if got < bytes {
		log.Warn("heap_floor_bytes lowered to a quarter of the memory limit (GOMEMLIMIT)", "asked", bytes, "heap_floor_bytes", got)
	}
	return got
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// serveHTTP serves until ctx ends, then drains in-flight requests.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, upstreamTimeout time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       upstreamTimeout + 30*time.Second,
		WriteTimeout:      upstreamTimeout + 60*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
