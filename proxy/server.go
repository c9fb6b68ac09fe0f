package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

var tracer = otel.Tracer("github.com/ds4p/ds4p/proxy")

// Decider answers policy decisions; *policy.Engine is one.
type Decider interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
	Revision() string
}

// ConsentStore keeps the patients' consents; *consent.Store is one.
type ConsentStore interface {
	Put(ctx context.Context, raw []byte) (consent.Record, error)
	Get(ctx context.Context, id string) (consent.Record, error)
	ForPatient(ctx context.Context, patient string) ([]consent.Record, error)
}

// Ledger records disclosures; *audit.Ledger is one.
type Ledger interface {
	Append(ctx context.Context, entries ...audit.Entry) error
	Find(ctx context.Context, q audit.Query) ([]audit.Entry, error)
}

// Authenticator verifies bearer tokens; *authn.Verifier is one.
type Authenticator interface {
	Verify(ctx context.Context, raw string) (authn.Caller, error)
}

// Deps are the stages the proxy wires together.
type Deps struct {
	Labeller *labels.Labeller
	Decider  Decider
	Consents ConsentStore
	Ledger   Ledger
	Auth     Authenticator
	Logger   *slog.Logger
	// Checks are extra readiness checks (stores open ...), by name.
	Checks map[string]func(context.Context) error
	// Events takes security events for the SIEM (a *siem.Queue); nil
	// drops them. Alerts keeps bulk-access alerts, and so blocks, across
	// restarts (*BoltAlerts); nil keeps them in memory only.
	Events siem.Emitter
	Alerts AlertStore
}

// Server is the ds4p HTTP edge.
type Server struct {
	opts     Options
	labeller *labels.Labeller
	decider  Decider
	consents ConsentStore
	ledger   Ledger
	auth     Authenticator
	log      *slog.Logger
	hints    purposeHints // purpose_hint.go
	checks   map[string]func(context.Context) error
	rp       *httputil.ReverseProxy
	client   *http.Client
	upBase   string
	// upBases are upBase and the upstream's aliases, as upBase is written
	// (upstreamBases).
	upBases []string
	// upHosts are upBases' hosts (basematch.go), found once by New and
	// only read after.
	upHosts upstreamHosts
	engine  *gin.Engine
	// Gateway protections (ratelimit.go, bulk.go) and security events.
	limits  *limiter
	bulk    *bulkDetector
	alerts  AlertStore
	blocked blockList
	events  siem.Emitter
	// walkParts: which bodies are walked in parts (parts.go).
	walkParts walkParts
	// withheldWrites is held for reading by each background write of a
	// withheld-only response's ledger entries (record.go); Flush takes it
	// for writing to wait for them.
	withheldWrites sync.RWMutex
}

// New builds the server. It reports every problem with opts and deps at once.
func New(opts Options, deps Deps) (*Server, error) {
	if err := errors.Join(opts.Validate(), deps.validate()); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Server{
		opts: opts, labeller: deps.Labeller, decider: deps.Decider, consents: deps.Consents,
		ledger: deps.Ledger, auth: deps.Auth, log: deps.Logger, checks: deps.Checks,
		upBase:    strings.TrimRight(opts.Upstream.String(), "/"),
		upBases:   upstreamBases(opts),
		walkParts: defaultWalkParts,
	}
	s.upHosts.find(s.upBases)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	transport := newTransport(opts)
	own, proxied := http.RoundTripper(transport), http.RoundTripper(newSyncClient(transport, opts.MaxIdleConns)) // upstream_client.go
	if c := opts.UpstreamCredentials; c != nil {
		own, proxied = &authTransport{next: own, creds: c}, &authTransport{next: proxied, creds: c} // upstream_auth.go
	}
	// The proxy's own upstream requests (stored versions, readiness,
	// consents, simulations) never follow a redirect, as the reverse
	// proxy does not: another host's answer is no answer about the
	// upstream's data, and the redirect is answered as the failure it is
	// (nor does the upstream's token go to another host).
	s.client = &http.Client{Transport: own, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.rp = &httputil.ReverseProxy{
		Rewrite:        s.rewrite,
		Transport:      proxied,
		ModifyResponse: s.modifyResponse,
		ErrorHandler:   s.errorHandler,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BufferPool:     copyBuffers,
	}
	if err := s.protect(opts.Protection, deps); err != nil {
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// copyBuffers are the 32 KiB buffers the reverse proxy copies bodies
// through: pooled, since every response would otherwise allocate one. A
// buffer is scratch space only; nothing of it reaches another response
// beyond the bytes that response's own read put there.
var copyBuffers httputil.BufferPool = &bufferPool{}

type bufferPool struct{ p sync.Pool }

// copyBuffer is one buffer of copyBuffers. The pool holds pointers to
// arrays, which go in and out of the pool's interface without an
// allocation (a *[]byte made at each Put was one per response).
type copyBuffer [32 << 10]byte

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*copyBuffer); ok {
		return buf[:]
	}
	return new(copyBuffer)[:]
}

// Put takes back a buffer Get gave; anything shorter is left to the
// collector.
func (b *bufferPool) Put(buf []byte) {
	if len(buf) >= len(copyBuffer{}) {
		b.p.Put((*copyBuffer)(buf))
	}
}

func (d Deps) validate() error {
	var errs []error
	if d.Labeller == nil {
		errs = append(errs, errors.New("deps: labeller missing"))
	}
	if d.Decider == nil {
		errs = append(errs, errors.New("deps: policy decider missing"))
	}
	if d.Consents == nil {
		errs = append(errs, errors.New("deps: consent store missing"))
	}
	if d.Ledger == nil {
		errs = append(errs, errors.New("deps: ledger missing"))
	}
	if d.Auth == nil {
		errs = append(errs, errors.New("deps: authenticator missing"))
	}
	return errors.Join(errs...)
}

func newTransport(o Options) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never route PHI through an environment proxy by surprise
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          o.MaxIdleConns,
		MaxIdleConnsPerHost:   o.MaxIdleConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: o.UpstreamTimeout,
		// No Accept-Encoding of its own: the upstream then answers
		// uncompressed. The proxy reads every body whole, and it usually
		// sits beside its FHIR server, where gzip only costs CPU: the
		// server's to compress (Medplum and HAPI do when asked) and the
		// proxy's to inflate: 5 ms for the 2.4 MB benchmark searchset
		// (stdlib gzip, 460 MB/s on data that compresses 16:1; 220 MB/s
		// on the shift-demo data). An upstream that gzips anyway is still
		// read (readBody).
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
		TLSClientConfig:    o.UpstreamTLS.Clone(), // nil: the system roots
	}
}

// Handler returns the HTTP handler of the whole edge.
func (s *Server) Handler() http.Handler { return s.engine }

// Mount serves h for every method at prefix and below it (e.g. the web
// console at /console), behind the edge's request id, recovery, telemetry
// and access log (route only, never path or query). Call it before serving.
func (s *Server) Mount(prefix string, h http.Handler) {
	s.engine.Any(prefix, gin.WrapH(h))
	s.engine.Any(prefix+"/*path", gin.WrapH(h))
}

// telemetryHost is the Host the edge's telemetry sees (edge.go): the
// configured public base's, or none; never the caller's Host header.
func (s *Server) telemetryHost() string {
	if u, err := url.Parse(s.opts.PublicBaseURL); err == nil {
		return u.Host
	}
	return ""
}

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// A method an endpoint does not take (DELETE /admin/Consent/x) is 405
	// with Allow, not a 404 that reads as "no such consent".
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// No caller is a trusted proxy: gin's ClientIP otherwise believes
	// anyone's X-Forwarded-For, and otelgin puts it on spans as
	// client.address. Nothing else reads ClientIP (rate limits key on the
	// token's subject, client and organisation; the console's sign-in limit
	// reads RemoteAddr).
	_ = e.SetTrustedProxies(nil)
	edge := []gin.HandlerFunc{s.requestID, s.recover}
	if !s.opts.NoEdgeTelemetry {
		edge = append(edge, hideURLFromTelemetry(s.telemetryHost()), otelgin.Middleware("ds4p"), restoreURL)
	}
	e.Use(append(edge, s.accessLog)...)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	// After authentication, before anything goes upstream: blocks of
	// bulk-access alerts (bulk.go), rate limits (ratelimit.go), SMART
	// scopes (scopes.go).
	// SMART discovery (smart.go) is read without a token.
	fhir := e.Group("/fhir", s.smartDiscovery, s.authenticate, s.refuseBlocked, s.rateLimitFHIR, s.enforceScopes)
	fhir.Any("", s.handleFHIR)
	fhir.Any("/*path", s.handleFHIR)
	// Admin roles, each reaching only its own endpoints (authn.*Scope); a
	// caller blocked by a bulk-access alert is refused here too.
	admin := e.Group("/admin", noStore, s.authenticate, s.refuseBlocked, refusePatientSide, s.rateLimitAdmin, refuseUnreadableQuery)
	s.consentRoutes(admin.Group("", requireScope(authn.ConsentManagerScope)))
	s.policyRoutes(admin.Group("", requireScope(authn.PolicyAuthorScope)))
	s.auditRoutes(admin.Group("", requireScope(authn.AuditorScope)))
	s.alertRoutes(admin.Group("", requireScope(authn.AuditorScope))) // bulk_admin.go
	e.NoMethod(func(c *gin.Context) {
		writeOutcome(c.Writer, http.StatusMethodNotAllowed, "not-supported", "this endpoint does not take "+c.Request.Method+"; see the Allow header")
	})
	e.NoRoute(func(c *gin.Context) {
		writeOutcome(c.Writer, http.StatusNotFound, "not-found", "no such endpoint; the FHIR API is under /fhir/")
	})
	return e
}

// noStore keeps every admin answer out of caches, as the FHIR answers are:
// ledger pages, accountings of disclosures and consents name patients.
func noStore(c *gin.Context) {
	c.Writer.Header().Set("Cache-Control", "no-store")
}

func endSpan(span trace.Span, err *error) {
	if *err != nil {
		recordSpanError(span, *err) // spanerror.go: never the error's text
	}
	span.End()
}
