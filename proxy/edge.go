package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/reqid"
	"github.com/ds4p/ds4p/internal/urltext"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
)

const (
	callerKey      = "ds4p.caller"
	requestIDKey   = "ds4p.request_id"
	originalReqKey = "ds4p.original_request"
)

// requestID takes the caller's X-Request-Id when it is short and plain, or
// makes one, and echoes it on the response.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !reqid.Plain(id) {
		id = newID()
	}
	c.Set(requestIDKey, id)
	c.Writer.Header().Set("X-Request-Id", id)
	c.Next()
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recover turns a panic anywhere below into a 500 OperationOutcome: nothing
// from a half-processed response leaves.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic while handling request", "request_id", c.GetString(requestIDKey), "panic", fmt.Sprint(v))
			if !c.Writer.Written() {
				writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "internal error; nothing was disclosed")
			}
			c.Abort()
		}
	}()
	c.Next()
}

// hideURLFromTelemetry shows otelgin a request whose path is the route
// template, whose query is empty and whose Host is host (the configured
// public base's host, or empty): resource ids and search parameters can
// name patients, and spans never carry PHI; the Host header is the
// caller's, unauthenticated, and its port becomes server.port on the
// http.server.* metrics, so a caller varying it would make a series per
// request until the SDK's cardinality limit folds every later series,
// legitimate routes included, into its overflow point. restoreURL puts the
// real request back, keeping the context otelgin added, and shows otelgin
// the hidden one again once the handlers are done, as otelgin computes the
// metrics' attributes from the request it then sees.
func hideURLFromTelemetry(host string) gin.HandlerFunc {
	return func(c *gin.Context) {
		orig := c.Request
		// The request and its URL in one allocation.
		hidden := &struct {
			r http.Request
			u url.URL
		}{r: *orig, u: *orig.URL}
		red, u := &hidden.r, &hidden.u
		u.Path, u.RawPath, u.RawQuery, u.Host, u.User = c.FullPath(), "", "", host, nil
		red.URL = u
		red.Host = host
		// A method of the caller's own spelling (any token up to the
		// header limit, 64 KiB) would be a span's
		// http.request.method_original; "" reads as _OTHER.
		red.Method = telemetryMethod(orig.Method)
		c.Set(originalReqKey, orig)
		c.Request = red
		c.Next()
		c.Request = orig
	}
}

func restoreURL(c *gin.Context) {
	hidden := c.Request // with otelgin's context
	if orig, ok := c.Get(originalReqKey); ok {
		c.Request = orig.(*http.Request).WithContext(hidden.Context())
	}
	c.Next()
	c.Request = hidden
}

// standardMethods are the HTTP methods logs and telemetry name as sent.
var standardMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true, http.MethodTrace: true,
}

// telemetryMethod is m when it is a standard method, else "": a method is
// any token the caller chooses, answered 405, and its text is not for the
// edge's spans.
func telemetryMethod(m string) string {
	if standardMethods[m] {
		return m
	}
	return ""
}

// logMethod is the request's method as the access log names it: a
// standard one, else "_OTHER" (as OpenTelemetry's http.request.method).
func logMethod(m string) string {
	if standardMethods[m] {
		return m
	}
	return "_OTHER"
}

// accessLog writes one line per request: no path, no query, no token.
//
// It names the calling application and organisation (the token's client
// and organisation), so that operations can tell who sends what without
// joining the ledger; never the token's subject, which for a patient-facing
// app is the patient, nor anything of the request's path or query.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	caller := callerOf(c) // empty when the request was refused before authentication
	// Typed attributes: the same line as Info's key-value pairs, without
	// boxing each value in an interface (six allocations per request, made
	// even when the level is off).
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("request_id", c.GetString(requestIDKey)),
		slog.String("method", logMethod(c.Request.Method)),
		slog.String("route", c.FullPath()),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("client", caller.Client),
		slog.String("org", caller.Org),
	)
}

// authenticate verifies the bearer token; no token or a bad one is 401.
func (s *Server) authenticate(c *gin.Context) {
	hs := c.Request.Header.Values("Authorization")
	if len(hs) > 1 {
		// Which one a server or a proxy in between reads differs: the
		// request is ambiguous, not the first one's.
		unauthorized(c, "the request has more than one Authorization header; send one bearer token")
		return
	}
	var h string
	if len(hs) == 1 {
		h = hs[0]
	}
	// The scheme is case-insensitive (RFC 9110 11.1): "bearer" is Bearer.
	var raw string
	ok := len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ")
	if ok {
		raw = h[len("Bearer "):]
	}
	if !ok || strings.TrimSpace(raw) == "" {
		unauthorized(c, "a bearer token is required")
		return
	}
	caller, err := s.auth.Verify(c.Request.Context(), strings.TrimSpace(raw))
	if errors.Is(err, authn.ErrKeysUnavailable) {
		// Not a judgement of the token: the keys to check it with are
		// missing (the issuer's JWKS is down). 401 would tell the caller
		// to get a new token, which would fail the same way.
		s.log.Error("token not checked: no signing keys", "request_id", c.GetString(requestIDKey), "reason", refusalReason(err))
		c.Header("Retry-After", "10")
		writeOutcome(c.Writer, http.StatusServiceUnavailable, "transient", "the token's signing keys could not be fetched from its issuer; try again shortly")
		c.Abort()
		return
	}
	if err != nil {
		reason := "the bearer token was refused"
		if !errors.Is(err, authn.ErrUnauthenticated) {
			reason = "the bearer token could not be checked"
		}
		s.log.Warn("token refused", "request_id", c.GetString(requestIDKey), "reason", refusalReason(err))
		s.securityEvent(c, siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning, Reason: refusalReason(err)}) // events.go
		unauthorized(c, reason)
		return
	}
	if err := authn.BindClient(&caller, c.Request.TLS); err != nil {
		s.log.Warn("token refused", "request_id", c.GetString(requestIDKey), "reason", err.Error())
		s.securityEvent(c, siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning,
			Subject: logSubject(caller), Org: caller.Org, Client: caller.Client, Reason: err.Error()})
		unauthorized(c, authn.ClientBindingMessage(err))
		return
	}
	s.hints.check(s, c.GetString(requestIDKey), caller)
	s.checkFHIRUserBase(&caller)
	if !s.OrgBase(caller) {
		const reason = "the token's org claim is a URL that is not below this server's FHIR base"
		s.log.Warn("token refused", "request_id", c.GetString(requestIDKey), "reason", reason)
		s.securityEvent(c, siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning,
			Subject: logSubject(caller), Client: caller.Client, Reason: reason})
		unauthorized(c, "the bearer token was refused")
		return
	}
	if !s.bindPatientUser(c, &caller) || !s.refuseUnboundPerson(c, caller) {
		return
	}
	if caller.BreakGlass != "" && (caller.PatientUser || caller.PersonUser || personUser(caller.FHIRUser)) {
		// 42 CFR 2.51 lets a program disclose to medical personnel in a
		// medical emergency; a patient's own login is none, and its claim
		// would record a 2.51 disclosure to the patient and queue it for
		// break-the-glass review. The claim is ignored (fail closed: the
		// patient's right of access is a request stating PATRQT).
		// So is a RelatedPerson's or a Person's (a parent, a caregiver),
		// of another server or spelt as FHIRUserRef cannot read too.
		s.log.Info("break-the-glass claim of a patient's own token ignored", "request_id", c.GetString(requestIDKey))
		caller.BreakGlass = ""
	}
	if caller.PatientIdentifier != "" && !s.bindPatientIdentifier(c, &caller) { // patient_identity.go
		return
	}
	c.Set(callerKey, caller)
	c.Next()
}

// personUser reports whether fhirUser (Type/id) names a RelatedPerson or a
// Person: someone acting for a patient, not medical personnel.
func personUser(fhirUser string) bool {
	typ, _, _ := strings.Cut(fhirUser, "/")
	return typ == "RelatedPerson" || typ == "Person"
}

// checkFHIRUserBase keeps an absolute fhirUser (caller.FHIRUserURL) only
// when it lies directly below the FHIR base the proxy serves or fronts (the
// upstream, its aliases, the configured public_base_url): SMART sends fhirUser as
// an absolute URL, and an issuer serving several FHIR servers may name
// another server's Patient with the same id, who is not this patient. The
// base's scheme and host may be spelled in any equivalent way (an explicit
// default port, a trailing dot, another case), the URL must be plain and
// the path below the base exactly Type/id (exactLocalPath). A fhirUser the
// proxy does not count leaves the caller an ordinary one.
func (s *Server) checkFHIRUserBase(caller *authn.Caller) {
	if caller.FHIRUserURL == "" {
		return
	}
	// The configured public base only: the one publicBase derives from the
	// request's Host header is the caller's to choose.
	if rest, ok := s.exactLocalPath(caller.FHIRUserURL, s.opts.PublicBaseURL); !ok || rest != caller.FHIRUser {
		caller.FHIRUser = ""
	}
}

// OrgBase reports whether the caller's org claim, when it is an absolute
// URL (caller.OrgURL), lies directly below the FHIR base the proxy serves
// or fronts, as checkFHIRUserBase counts a fhirUser: the same Type/id of
// another server is another organisation, which a consent naming
// Organization/org-b does not name, nor permit. The console asks it too
// (console.Config.OrgBase).
func (s *Server) OrgBase(caller authn.Caller) bool {
	if caller.OrgURL == "" {
		return true
	}
	rest, ok := s.exactLocalPath(caller.OrgURL, s.opts.PublicBaseURL)
	return ok && authn.OrgReference(rest) == caller.Org
}

// PatientSide reports whether the edge counts caller's token as a
// patient's (authn.Caller.PatientSide), its absolute fhirUser counted only
// below this server's FHIR bases as checkFHIRUserBase counts it. The web
// console asks it, so that its sign-in refuses the tokens /admin refuses.
func (s *Server) PatientSide(caller authn.Caller) bool {
	s.checkFHIRUserBase(&caller)
	return caller.PatientSide()
}

// bindPatientUser binds a patient's token to the patient's compartment:
// when the fhirUser claim names a Patient and the token has no patient
// claim, the caller's Patient is the fhirUser's, as if the token carried
// it. A patient is entitled to their own record; a token an authorisation
// server gave a patient with user/ or system/ scopes would otherwise read
// like a clinician's, every patient's data the policy and consents allow.
// A Patient fhirUser the proxy does not count as this server's (another
// base, a spelling FHIRUserRef does not read), or any fhirUser
// FHIRUserRef does not read (who it names may be a patient), leaves
// nothing to bind to: the request is refused (403), never served unbound.
// It reports whether the request may go on.
func (s *Server) bindPatientUser(c *gin.Context, caller *authn.Caller) bool {
	if !caller.PatientUser || caller.Patient != "" || caller.PatientIdentifier != "" {
		return true
	}
	if id, ok := strings.CutPrefix(caller.FHIRUser, "Patient/"); ok {
		caller.Patient = id
		return true
	}
	s.refusePatientSideToken(c, *caller, "the token's user (fhirUser) is a Patient of another FHIR server or not a plain reference to a Patient, Practitioner, PractitionerRole, RelatedPerson or Person, and the token names no patient context",
		"the token's user may be a patient this server cannot bind it to: its fhirUser must be a plain reference to a Patient, Practitioner, PractitionerRole, RelatedPerson or Person (Type/ID with the type so spelt and a FHIR id, or a URL of one; a Patient's below this FHIR server's base), or the token must carry a patient claim")
	return false
}

// refusePatientSideToken refuses (403, text) a token of a patient or of
// someone acting for one that the proxy cannot bind to a patient: a log
// line and a token_refused event with reason and no subject (a
// patient's, or a patient's relative's, identity).
func (s *Server) refusePatientSideToken(c *gin.Context, caller authn.Caller, reason, text string) {
	s.log.Warn("token refused", "request_id", c.GetString(requestIDKey), "reason", reason)
	s.securityEvent(c, siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning,
		Org: caller.Org, Client: caller.Client, Reason: reason})
	forbidden(c, text)
}

// refuseUnboundPerson refuses a token whose user acts for a patient (a
// fhirUser naming a RelatedPerson or a Person: a parent, a caregiver;
// caller.PersonUser, in any spelling) and that names no patient context.
// SMART's user/ scopes give such a user what the user may see, which is
// the patient's record they act for; served unbound, the token read as a
// clinician's, every patient's record the policy and consents allow
// (RelatedPerson/rp-7 with user/*.read read Patient/p2's Observation, 200:
// QA round 43, helper E). Whom the user acts for is not in the token (a
// RelatedPerson's patient, a Person's links are the upstream's data), so
// such a token is refused (403) unless it carries a patient claim, which
// binds it to that patient as any token is. It reports whether the request
// may go on.
func (s *Server) refuseUnboundPerson(c *gin.Context, caller authn.Caller) bool {
	if !caller.PersonUser || caller.Patient != "" || caller.PatientIdentifier != "" {
		return true
	}
	s.refusePatientSideToken(c, caller, "the token's user (fhirUser) is a RelatedPerson or Person and the token names no patient context",
		"the token's user (fhirUser) is a RelatedPerson or Person, who acts for a patient: the token must carry a patient claim (the SMART launch context) naming the patient the user acts for")
	return false
}

// refusalReason is a token verifier's error as the log and the SIEM's
// token_refused events may carry it: each URL in it (the issuer's JWKS
// URL, which the verifier names when it could not fetch its keys) without
// the userinfo and query that can hold the identity provider's credentials
// (https://user:password@idp/jwks, ?api-key=...), as urltext.Text shows
// URLs: one that does not parse, or that the verifier's bound cut inside
// its credentials, is withheld whole.
func refusalReason(err error) string {
	return urltext.Text(err.Error())
}

func unauthorized(c *gin.Context, msg string) {
	c.Writer.Header().Set("WWW-Authenticate", `Bearer realm="ds4p"`)
	writeOutcome(c.Writer, http.StatusUnauthorized, "login", msg)
	c.Abort()
}

func requireScope(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !callerOf(c).HasScope(scope) {
			writeOutcome(c.Writer, http.StatusForbidden, "forbidden", "this endpoint needs the scope "+scope)
			c.Abort()
			return
		}
		c.Next()
	}
}

func callerOf(c *gin.Context) authn.Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(authn.Caller)
	return caller
}
