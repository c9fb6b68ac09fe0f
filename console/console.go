package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/reqid"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
)

//go:embed assets
var assets embed.FS

// Verifier verifies bearer tokens; *authn.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (authn.Caller, error)
}

// Ledger is what the console reads of the ledger beyond the admin API;
// *audit.Ledger is one.
type Ledger interface {
	audit.Finder
	HashAt(ctx context.Context, seq uint64) (string, bool, error)
	Head(ctx context.Context) (uint64, string, error)
	Verify(ctx context.Context) (uint64, error)
	EntriesAfter(ctx context.Context, seq uint64, limit int) ([]audit.Entry, error)
	// Append records an auditor's read of the ledger the console answers
	// itself (the break-the-glass queue), as the admin API records its own.
	Append(ctx context.Context, entries ...audit.Entry) error
}

// Config wires the console to the proxy.
type Config struct {
	// Verifier checks the token a user signs in with.
	Verifier Verifier
	// Admin serves the proxy's /admin API; the console calls it in
	// process with the session's token.
	Admin http.Handler
	// Ledger and Reviews back the review queue, verification and charts
	// (whose per-day counters are saved with the reviews, so a restart
	// counts only the entries added since).
	Ledger  Ledger
	Reviews *audit.Reviews
	// PolicyFS returns the policy tree in force, for its Rego tests; nil
	// when the policy comes from a bundle whose sources are not at hand.
	PolicyFS func() fs.FS
	// Rules returns the label rules in force.
	Rules func() []labels.Rule
	// Blocked reports the open alert blocking a caller (subject, client),
	// as the proxy refuses its requests (proxy.Server.Blocked); nil blocks
	// no one. A blocked caller neither signs in nor uses a session it had:
	// the review queue, reviews, verification and charts read the ledger
	// here, not through the admin API.
	Blocked func(subject, client string) (alertID string, blocked bool)
	// SecurityEvent takes the console's security events for the SIEM (a
	// refused sign-in is a token_refused event, as at the proxy's edge:
	// proxy.Server.SecurityEvent); nil drops them.
	SecurityEvent func(siem.Event)
	Logger        *slog.Logger
	// IdleTimeout ends a session unused this long (default 30m);
	// MaxSessionAge ends any session (default 8h); MaxSessions bounds the
	// store (default 1000; the least recently used goes first);
	// MaxSessionsPerSubject bounds one subject's sessions (default 5; its
	// oldest goes first).
	IdleTimeout           time.Duration
	MaxSessionAge         time.Duration
	MaxSessions           int
	MaxSessionsPerSubject int
	// LoginBurst sign-ins at once per client IP (default 10), then one
	// every LoginInterval (default 6s); more are refused with 429.
	LoginBurst    int
	LoginInterval time.Duration
	Now           func() time.Time
	// PublicOrigin is the console's origin as browsers reach it
	// ("https://ds4p.example"), when a load balancer or ingress in front
	// terminates TLS: the connection ds4p sees is then plain HTTP, while
	// the browser's Origin says https. When set, an Origin equal to it is
	// the console's own (as is, always, the request's Host with the
	// connection's scheme), and an https origin makes the session cookie
	// Secure (named with the __Host- prefix; the console must then be
	// reached over https) and responses carry Strict-Transport-Security.
	// `ds4p serve` sets it from public_base_url.
	PublicOrigin string
	// PatientSide judges whether a token is a patient's, which the console
	// refuses as the proxy's /admin routes do: `ds4p serve` passes the
	// edge's own judgement (proxy.Server.PatientSide), which knows the FHIR
	// bases below which an absolute fhirUser names this server's user (the
	// upstream's, its aliases, public_base_url). Nil counts no absolute
	// fhirUser (fail closed): a clinician's token launched in a patient's
	// context is then the patient's.
	PatientSide func(authn.Caller) bool
	// OrgBase judges whether a token's org claim given as an absolute URL
	// (authn.Caller.OrgURL) lies below this server's FHIR base, which the
	// console requires as the proxy's edge does: `ds4p serve` passes the
	// edge's own judgement (proxy.Server.OrgBase). Another server's
	// Organization/org-b is not this one's, and a session would record
	// its actions as this server's org-b's. Nil refuses every absolute URL
	// org (fail closed).
	OrgBase func(authn.Caller) bool
	// AdminLimit charges a call the console answers itself (the
	// break-the-glass queue, reviews, verification, charts, the Rego tests,
	// the label rules) to the caller's admin rate-limit buckets, as the
	// proxy charges its /admin requests (proxy.Server.AllowAdmin); the calls
	// relayed to /admin are charged there. Not ok refuses the call with 429
	// and Retry-After. Nil limits nothing.
	AdminLimit func(ctx context.Context, requestID string, caller authn.Caller) (retryAfter time.Duration, ok bool)
}

// Handler serves /console.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessions
	mux      *http.ServeMux
	stats    *stats
	verify   *verifyStatus
	tests    *testCache
	logins   *loginLimiter
}

// New builds the console handler. Call Close (or cancel ctx) to stop its
// background work.
func New(ctx context.Context, cfg Config) (*Handler, error) {
	if cfg.Verifier == nil || cfg.Admin == nil || cfg.Ledger == nil || cfg.Reviews == nil || cfg.Rules == nil {
		return nil, errors.New("console: verifier, admin handler, ledger, reviews and rules are required")
	}
	cfg = withDefaults(cfg)
	if cfg.PublicOrigin != "" {
		o, err := originOf(cfg.PublicOrigin)
		if err != nil {
			return nil, err
		}
		cfg.PublicOrigin = o
	}
	h := &Handler{
		cfg: cfg, log: cfg.Logger,
		sessions: newSessions(cfg.MaxSessions, cfg.MaxSessionsPerSubject, cfg.IdleTimeout, cfg.Now, cfg.Logger),
		logins:   newLoginLimiter(cfg.LoginBurst, cfg.LoginInterval, cfg.Now),
		stats:    newStats(cfg.Ledger, cfg.Reviews),
		verify:   &verifyStatus{},
		tests:    &testCache{},
	}
	h.mux = h.routes()
	// A refresh that keeps up reads the ledger's latest entries from
	// memory (audit's recent entries) rather than the file (statsInterval).
	go h.stats.run(ctx, statsInterval)
	return h, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxSessionAge <= 0 {
		cfg.MaxSessionAge = 8 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1000
	}
	if cfg.MaxSessionsPerSubject <= 0 {
		cfg.MaxSessionsPerSubject = 5
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	if cfg.LoginInterval <= 0 {
		cfg.LoginInterval = 6 * time.Second
	}
	if cfg.SecurityEvent == nil {
		cfg.SecurityEvent = func(siem.Event) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// apiHandler is a console API call for a signed-in session.
type apiHandler func(w http.ResponseWriter, r *http.Request, s *session, body []byte)

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/console/", http.FileServerFS(static))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusFound)
	})
	mux.HandleFunc("POST /console/api/login", h.login)
	mux.HandleFunc("POST /console/api/logout", h.logout)
	mux.HandleFunc("GET /console/api/session", h.sessionInfo)
	for path, a := range h.api() {
		fn := a.fn
		if a.own {
			fn = h.charged(fn)
		}
		mux.HandleFunc("POST /console/api/"+path, h.guard(path, a.role, fn))
	}
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/console/api/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			writeError(w, http.StatusNotFound, "no such console call")
			return
		}
		files.ServeHTTP(w, r)
	})
	return mux
}

// route is one API call and the role it needs; own is a call the console
// answers itself, not relayed to /admin (charged to the admin rate limit
// here: charged).
type route struct {
	role string
	fn   apiHandler
	own  bool
}

func (h *Handler) api() map[string]route {
	a, p, c := authn.AuditorScope, authn.PolicyAuthorScope, authn.ConsentManagerScope
	return map[string]route{
		"audit/search":       {a, h.auditSearch, false},
		"audit/accounting":   {a, h.auditAccounting, false},
		"audit/breakglass":   {a, h.breakGlassQueue, true},
		"audit/review":       {a, h.review, true},
		"audit/verify":       {a, h.verifyChain, true},
		"audit/stats":        {a, h.auditStats, true},
		"audit/alerts":       {a, h.alertList, false}, // alerts.go
		"audit/alerts/clear": {a, h.alertClear, false},
		"policy/status":      {p, h.policyStatus, false},
		"policy/tests":       {p, h.policyTests, true},
		"policy/decide":      {p, h.decide, false},
		"labels/rules":       {p, h.labelRules, true},
		"consent/search":     {c, h.consentSearch, false},
		"consent/history":    {c, h.consentHistory, false},
		"consent/create":     {c, h.consentCreate, false},
		"consent/revoke":     {c, h.consentRevoke, false},
	}
}

// ServeHTTP serves the console with its security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	// A page of another site that opened the console (window.open) keeps
	// no handle on it (it could later send the tab to a look-alike sign-in
	// page), and no other site may load the console's answers as
	// subresources.
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	if h.secure(r) {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.mux.ServeHTTP(w, r)
}

// maxAPIBody bounds a console API request (a consent or a simulation).
const maxAPIBody = 16 << 20

// guard checks session, CSRF and role, logs the call and reads the JSON
// body; call names it in the log ("audit/breakglass").
func (h *Handler) guard(call, role string, fn apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rid := requestID(w, r)
		s, ok := h.liveSession(w, r, rid)
		if !ok {
			return
		}
		if !h.csrfOK(r, s) || !isJSON(r) {
			writeError(w, http.StatusForbidden, "the request lacks the session's CSRF token, JSON content type or same origin")
			return
		}
		h.sessions.touch(s) // only a request the page could send counts as use
		if !s.has(role) {
			writeError(w, http.StatusForbidden, "this page needs the role "+role)
			return
		}
		if h.refuseBlocked(w, s.subject, s.client) {
			return
		}
		// Who read what: the call's name only, never its body (patient
		// ids, queries); the relayed /admin request carries the same
		// request id (admin).
		h.log.Info("console call", "request_id", rid, "call", call, "session", s.tag, "subject", s.logSubject(), "client", s.client)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "the request is too large")
			return
		}
		fn(w, r, s, body)
	}
}

// liveSession returns the request's session after checking that it may
// still be used, or answers why not: one console cookie naming a live
// session, the client certificate seen at sign-in, and a token the
// verifier still accepts (it caches, so this is cheap). The session's
// roles are refreshed from the verification; a session whose token is
// refused, or which comes with another certificate, ends.
func (h *Handler) liveSession(w http.ResponseWriter, r *http.Request, rid string) (*session, bool) {
	if _, ok := h.sessionCookie(r); !ok {
		writeError(w, http.StatusUnauthorized, severalCookies)
		return nil, false
	}
	s, ok := h.sessionOf(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "not signed in, or the session expired")
		return nil, false
	}
	if authn.ClientIdentity(r.TLS) != s.certID {
		h.log.Warn("console session refused", "request_id", rid, "session", s.tag, "subject", s.logSubject(),
			"reason", "the client certificate is not the one the session signed in with")
		h.sessions.remove(s.id, endCertChange)
		h.setCookie(w, r, "", -1)
		writeError(w, http.StatusUnauthorized, "this session signed in with another client certificate; sign in again")
		return nil, false
	}
	caller, err := h.cfg.Verifier.Verify(r.Context(), s.token)
	if errors.Is(err, authn.ErrKeysUnavailable) {
		// Not a judgement of the token: the issuer's keys are missing.
		h.log.Error("console session not checked: no signing keys", "request_id", rid, "session", s.tag, "reason", err.Error())
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "the token's signing keys could not be fetched from its issuer; try again shortly")
		return nil, false
	}
	if err == nil {
		err = authn.BindClient(&caller, r.TLS)
	}
	if err == nil && caller.Subject != s.subject {
		err = errors.New("the token's subject changed")
	}
	if err == nil && h.patientSide(caller) {
		err = errPatientToken
	}
	if err != nil {
		h.log.Warn("console session refused", "request_id", rid, "session", s.tag, "subject", s.logSubject(), "reason", err.Error())
		ev := siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning, RequestID: rid,
			Client: s.client, Reason: "console session: " + err.Error()}
		if !s.patient {
			ev.Subject = s.subject
		}
		h.cfg.SecurityEvent(ev)
		h.sessions.remove(s.id, endRefused)
		h.setCookie(w, r, "", -1)
		writeError(w, http.StatusUnauthorized, "the session's token is no longer accepted; sign in again")
		return nil, false
	}
	s.setRoles(rolesOf(caller))
	return s, true
}

// patientSide is caller.PatientSide() as the proxy's edge judges it
// (Config.PatientSide): a fhirUser given as an absolute URL names this
// server's user only below one of the FHIR bases the edge knows, else it is
// not counted, so a token with a patient launch context whose fhirUser is a
// Practitioner of another server is the patient's, which /admin refuses.
// Without the edge's judgement no absolute fhirUser counts (fail closed).
func (h *Handler) patientSide(caller authn.Caller) bool {
	if h.cfg.PatientSide != nil {
		return h.cfg.PatientSide(caller)
	}
	if caller.FHIRUserURL != "" {
		caller.FHIRUser = ""
	}
	return caller.PatientSide()
}

// errPatientToken refuses a patient's token (authn.Caller.PatientSide: a
// patient user, or a token bound to a patient that names no clinician),
// whatever admin scopes it carries, as the proxy's /admin routes do.
var errPatientToken = errors.New("the token is a patient's (fhirUser or launch context), which the console does not take")

// severalCookies answers a request with more than one console cookie.
const severalCookies = "the browser sent several console session cookies (one may come from another site of this domain); clear this site's cookies and sign in again"

// rolesOf is the console roles the caller's token carries.
func rolesOf(caller authn.Caller) []string {
	var roles []string
	for _, role := range Roles {
		if caller.HasScope(role) {
			roles = append(roles, role)
		}
	}
	return roles
}

// requestID is the request's id: the one the proxy's edge gave it (its
// X-Request-Id response header) or, without the edge, a plain one the
// caller sent or a new one, set on the response. The console's /admin
// calls carry it, so their log lines join the console's.
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	id := r.Header.Get("X-Request-Id")
	if !reqid.Plain(id) {
		id = randomToken()[:32]
	}
	w.Header().Set("X-Request-Id", id)
	return id
}

// refuseBlocked answers 403 to a caller a bulk-access alert blocks, as
// the proxy answers its /fhir and /admin requests, and reports whether it
// did.
func (h *Handler) refuseBlocked(w http.ResponseWriter, subject, client string) bool {
	if h.cfg.Blocked == nil {
		return false
	}
	id, blocked := h.cfg.Blocked(subject, client)
	if blocked {
		writeError(w, http.StatusForbidden, "this caller is blocked pending review of security alert "+id+"; another auditor must clear it")
	}
	return blocked
}

// charged refuses a call the console answers itself when the caller's
// admin rate limit is spent (Config.AdminLimit): it reads what /admin
// serves under that limit (the queue reads every patient's emergency
// disclosures and appends an audit-read entry to the ledger), and a
// session must not be a way around it.
func (h *Handler) charged(fn apiHandler) apiHandler {
	if h.cfg.AdminLimit == nil {
		return fn
	}
	return func(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
		caller := authn.Caller{Subject: s.subject, Client: s.client, Org: s.org}
		if wait, ok := h.cfg.AdminLimit(r.Context(), w.Header().Get("X-Request-Id"), caller); !ok {
			w.Header().Set("Retry-After", retryAfter(wait))
			writeError(w, http.StatusTooManyRequests, "rate limit of this caller's admin requests reached; retry after "+retryAfter(wait)+" s")
			return
		}
		fn(w, r, s, body)
	}
}

func isJSON(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(strings.ToLower(ct)) == "application/json"
}

// login verifies the pasted token and starts a session. It binds the
// token to the connection's client certificate as the proxy's edge does
// (authn.BindClient), and ends the session the browser had.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	rid := requestID(w, r)
	old, ok := h.sessionCookie(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, severalCookies)
		return
	}
	if !h.sameOrigin(r) || !isJSON(r) {
		writeError(w, http.StatusForbidden, "sign in from the console page")
		return
	}
	// Counted only for what the console page can send: a cross-site form
	// post (any page the user opens) must not spend the address's sign-ins
	// (QA round 12).
	if ok, wait := h.logins.allow(clientIP(r)); !ok {
		h.log.Warn("console sign-in refused", "request_id", rid, "reason", "too many sign-ins from this address")
		w.Header().Set("Retry-After", retryAfter(wait))
		writeError(w, http.StatusTooManyRequests, "too many sign-ins from this address; try again in "+retryAfter(wait)+" s")
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be {\"token\": \"...\"}")
		return
	}
	raw := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.Token), "Bearer "))
	caller, err := h.cfg.Verifier.Verify(r.Context(), raw)
	if errors.Is(err, authn.ErrKeysUnavailable) {
		h.log.Error("console sign-in: token not checked: no signing keys", "request_id", rid, "reason", err.Error())
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "the token's signing keys could not be fetched from its issuer; try again shortly")
		return
	}
	if err != nil {
		h.log.Warn("console sign-in refused", "request_id", rid, "reason", err.Error())
		h.cfg.SecurityEvent(siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning, RequestID: rid,
			Reason: "console sign-in: " + err.Error()})
		writeError(w, http.StatusUnauthorized, "the token was refused")
		return
	}
	if err := authn.BindClient(&caller, r.TLS); err != nil {
		h.log.Warn("console sign-in refused", "request_id", rid, "reason", err.Error())
		ev := siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning, RequestID: rid,
			Subject: caller.Subject, Org: caller.Org, Client: caller.Client, Reason: "console sign-in: " + err.Error()}
		if h.patientSide(caller) {
			ev.Subject = "" // a patient's subject is the patient
		}
		h.cfg.SecurityEvent(ev)
		writeError(w, http.StatusUnauthorized, authn.ClientBindingMessage(err))
		return
	}
	if caller.OrgURL != "" && (h.cfg.OrgBase == nil || !h.cfg.OrgBase(caller)) {
		// As the edge refuses it (proxy.Server.OrgBase): the org would be
		// recorded as this server's Organization/x (QA round 41, helper J).
		const reason = "console sign-in: the token's org claim is a URL that is not below this server's FHIR base"
		h.log.Warn("console sign-in refused", "request_id", rid, "reason", reason)
		h.cfg.SecurityEvent(siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning, RequestID: rid,
			Client: caller.Client, Reason: reason})
		writeError(w, http.StatusUnauthorized, "the token was refused")
		return
	}
	if h.patientSide(caller) {
		// As the proxy's /admin routes refuse it (refusePatientSide): the
		// queue, reviews, verification and charts read the ledger here,
		// where every patient's disclosures are.
		h.log.Warn("console sign-in refused", "request_id", rid, "reason", errPatientToken.Error())
		writeError(w, http.StatusForbidden, "a patient's token cannot use the console, whatever its scopes: "+
			"its pages act on every patient; an auditor gives a patient their accounting of disclosures")
		return
	}
	roles := rolesOf(caller)
	if len(roles) == 0 {
		writeError(w, http.StatusForbidden, "the token carries none of the admin roles "+strings.Join(Roles, ", "))
		return
	}
	if h.refuseBlocked(w, caller.Subject, caller.Client) {
		return
	}
	expires := h.cfg.Now().Add(h.cfg.MaxSessionAge)
	if !caller.Expiry.IsZero() && caller.Expiry.Before(expires) {
		expires = caller.Expiry
	}
	if !expires.After(h.cfg.Now()) {
		// Within the clock skew the token still verifies, but a session
		// ending before it starts would read as a successful sign-in.
		writeError(w, http.StatusUnauthorized, "the token has expired")
		return
	}
	if old != "" {
		// A sign-in in a browser ends the session it had, whoever's it was.
		h.sessions.remove(old, endReplaced)
	}
	s := h.sessions.create(raw, caller, roles, expires, authn.ClientIdentity(r.TLS))
	h.setCookie(w, r, s.id, int(expires.Sub(h.cfg.Now()).Seconds())+1)
	h.log.Info("console session started", "request_id", rid, "session", s.tag, "subject", s.logSubject(), "org", caller.Org,
		"client", caller.Client, "roles", strings.Join(roles, " "))
	writeJSON(w, http.StatusOK, h.sessionJSON(s))
}

// sessionJSON is the session for the page: who, the roles, the CSRF token
// and when the session ends. expires_in_s is the time left, so that the
// page clears what it shows when the session ends (at the token's expiry,
// or idle_timeout_s after the last call) whatever its own clock says.
func (h *Handler) sessionJSON(s *session) map[string]any {
	return map[string]any{
		"subject": s.subject, "roles": s.roleList(), "csrf": s.csrf,
		"expires": s.expires.UTC(), "expires_in_s": max(0, int(s.expires.Sub(h.cfg.Now()).Seconds())),
		"idle_timeout_s": int(h.cfg.IdleTimeout.Seconds()),
	}
}

// sessionInfo tells the page who is signed in and the CSRF token.
func (h *Handler) sessionInfo(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin")
		return
	}
	s, ok := h.liveSession(w, r, requestID(w, r))
	if !ok {
		return
	}
	h.sessions.touch(s)
	writeJSON(w, http.StatusOK, h.sessionJSON(s))
}

// logout ends the session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.sessionCookie(r); !ok {
		writeError(w, http.StatusUnauthorized, severalCookies)
		return
	}
	if s, ok := h.sessionOf(r); ok {
		if !h.csrfOK(r, s) {
			writeError(w, http.StatusForbidden, "the request lacks the session's CSRF token")
			return
		}
		h.sessions.remove(s.id, endSignedOut)
	}
	h.setCookie(w, r, "", -1)
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"the answer could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
