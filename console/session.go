package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// CookieName is the session cookie.
const CookieName = "ds4p_console"

// SecureCookieName is the session cookie over https (see cookieName).
const SecureCookieName = "__Host-ds4p_console"

// Roles are the admin scopes the console knows, in the order of its menu.
var Roles = []string{authn.AuditorScope, authn.PolicyAuthorScope, authn.ConsentManagerScope}

// session is one signed-in browser.
type session struct {
	id      string
	tag     string // a short hash of id, naming the session in the logs
	csrf    string
	token   string // the bearer token, never sent back to the browser
	subject string
	client  string // the token's client, or the client certificate's identity (authn.BindClient)
	// org, orgName and orgAddress are the token's organisation: the admin
	// rate limit's third bucket, and the auditor's as the admin API
	// records a read (the ledger's recipient filter matches it too).
	org, orgName, orgAddress string
	// certID is the connection's verified client certificate identity
	// at sign-in ("" without mutual TLS); every call must come with it.
	certID string
	// patient is a token whose user is a patient: its subject is never
	// logged.
	patient  bool
	created  time.Time
	lastSeen time.Time
	expires  time.Time // the token's exp, or created + MaxSessionAge

	mu    sync.Mutex
	roles []string // refreshed from each call's verification of the token
}

func (s *session) has(role string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.roles, role)
}

func (s *session) roleList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.roles)
}

func (s *session) setRoles(roles []string) {
	s.mu.Lock()
	s.roles = roles
	s.mu.Unlock()
}

// logSubject is the subject the logs may name: an admin's, never a
// patient's.
func (s *session) logSubject() string {
	if s.patient {
		return ""
	}
	return s.subject
}

// sessionTag is the short hash of a session id the logs name it by: it
// joins a session's log lines without letting a log reader use it.
func sessionTag(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}

// Reasons a session ends, as the log says them.
const (
	endSignedOut  = "signed out"
	endExpired    = "expired"
	endIdle       = "idle"
	endReplaced   = "replaced by a new sign-in in the same browser"
	endSubjectCap = "evicted: the subject's oldest session beyond the per-subject limit"
	endStoreFull  = "evicted: least recently used, the session store is full"
	endRefused    = "the token is no longer accepted"
	endCertChange = "called with another client certificate than at sign-in"
)

// ended is a session that ended and why, logged once the store's lock is
// released.
type ended struct {
	s      *session
	reason string
}

// sessions is the bounded in-memory session store.
type sessions struct {
	mu         sync.Mutex
	byID       map[string]*session
	max        int
	perSubject int
	idle       time.Duration
	now        func() time.Time
	log        *slog.Logger
}

func newSessions(max, perSubject int, idle time.Duration, now func() time.Time, log *slog.Logger) *sessions {
	return &sessions{byID: map[string]*session{}, max: max, perSubject: perSubject, idle: idle, now: now, log: log}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return base64.RawURLEncoding.EncodeToString(b)
}

// report logs the sessions that ended: the session's tag, its subject
// (never a patient's) and why; never the token, cookie or CSRF token.
func (ss *sessions) report(out []ended) {
	for _, e := range out {
		level := slog.LevelInfo
		if e.reason == endSubjectCap || e.reason == endStoreFull || e.reason == endRefused || e.reason == endCertChange {
			level = slog.LevelWarn
		}
		ss.log.Log(context.Background(), level, "console session ended", "session", e.s.tag, "subject", e.s.logSubject(), "reason", e.reason)
	}
}

// create stores a new session, evicting expired ones, then the subject's
// oldest beyond the per-subject limit and then, when full, the least
// recently used.
func (ss *sessions) create(token string, caller authn.Caller, roles []string, expires time.Time, certID string) *session {
	now := ss.now()
	id := randomToken()
	s := &session{
		id: id, tag: sessionTag(id), csrf: randomToken(), token: token, subject: caller.Subject, client: caller.Client,
		org: caller.Org, orgName: caller.OrgName, orgAddress: caller.OrgAddress,
		certID: certID, patient: caller.PatientSide(),
		roles: roles, created: now, lastSeen: now, expires: expires,
	}
	var out []ended
	defer func() { ss.report(out) }()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var mine []*session
	for id, old := range ss.byID {
		if why := ss.expired(old, now); why != "" {
			delete(ss.byID, id)
			out = append(out, ended{old, why})
		} else if old.subject == s.subject {
			mine = append(mine, old)
		}
	}
	if len(mine) >= ss.perSubject {
		slices.SortFunc(mine, func(a, b *session) int { return a.created.Compare(b.created) })
		for _, old := range mine[:len(mine)-ss.perSubject+1] {
			delete(ss.byID, old.id)
			out = append(out, ended{old, endSubjectCap})
		}
	}
	for len(ss.byID) >= ss.max {
		var lru *session
		for _, old := range ss.byID {
			if lru == nil || old.lastSeen.Before(lru.lastSeen) {
				lru = old
			}
		}
		delete(ss.byID, lru.id)
		out = append(out, ended{lru, endStoreFull})
	}
	ss.byID[s.id] = s
	return s
}

// expired says why s is over at now ("" while it is live).
func (ss *sessions) expired(s *session, now time.Time) string {
	switch {
	case !now.Before(s.expires):
		return endExpired
	case now.Sub(s.lastSeen) >= ss.idle:
		return endIdle
	}
	return ""
}

// get returns the live session of id; an expired one is removed. It does
// not mark it used (touch): a request the console then refuses (no CSRF
// token, another site's origin) is no use of the session, or any page of
// the same site could keep it from going idle.
func (ss *sessions) get(id string) (*session, bool) {
	now := ss.now()
	var out []ended
	defer func() { ss.report(out) }()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil, false
	}
	if why := ss.expired(s, now); why != "" {
		delete(ss.byID, id)
		out = append(out, ended{s, why})
		return nil, false
	}
	return s, true
}

// touch marks s used now, once its request passed the session's checks.
func (ss *sessions) touch(s *session) {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if now.After(s.lastSeen) {
		s.lastSeen = now
	}
}

// remove ends the session of id, if it is still there, and logs why.
func (ss *sessions) remove(id, reason string) {
	var out []ended
	defer func() { ss.report(out) }()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.byID[id]; ok {
		delete(ss.byID, id)
		out = append(out, ended{s, reason})
	}
}

func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byID)
}

// sessionCookie is the value of the request's console cookie ("" without
// one); ok is false when the request carries several: a sibling subdomain
// can plant a cookie of the same name that browsers send first, so which
// one is the console's cannot be told. (A __Host- cookie, the one served
// over https, cannot be set by another site, but may still come twice from
// a browser that kept an older one.)
func (h *Handler) sessionCookie(r *http.Request) (value string, ok bool) {
	cs := r.CookiesNamed(h.cookieName(r))
	switch len(cs) {
	case 0:
		return "", true
	case 1:
		return cs[0].Value, true
	}
	return "", false
}

// sessionOf returns the request's live session.
func (h *Handler) sessionOf(r *http.Request) (*session, bool) {
	v, ok := h.sessionCookie(r)
	if !ok || v == "" {
		return nil, false
	}
	return h.sessions.get(v)
}

// secure reports whether the browser reaches the console over https: the
// connection is TLS, or the configured public origin is https (TLS ends
// at a load balancer in front).
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(h.cfg.PublicOrigin, "https://")
}

// cookieName is the session cookie's name: over https the __Host- prefix,
// which browsers accept only from a secure origin, with Path=/ and no
// Domain, so that no other site of the domain (a sibling subdomain, or
// plain http on the same host) can set or overwrite it.
func (h *Handler) cookieName(r *http.Request) string {
	if h.secure(r) {
		return SecureCookieName
	}
	return CookieName
}

// setCookie sends the session cookie; an empty value with maxAge -1 clears it.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	c := &http.Cookie{
		Name: CookieName, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
	if h.secure(r) {
		// Path=/ as the prefix requires: the cookie then also goes with the
		// browser's requests to /fhir and /admin, which read bearer tokens
		// only and never forward a Cookie header upstream.
		c.Name, c.Path, c.Secure = SecureCookieName, "/", true
	}
	http.SetCookie(w, c)
}

// csrfOK checks the double-submitted CSRF token and, when the browser
// sends one, the Origin.
func (h *Handler) csrfOK(r *http.Request, s *session) bool {
	if !h.sameOrigin(r) {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// sameOrigin is false when the request's Origin (or, without one,
// Sec-Fetch-Site) says it comes from another site.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		// Browsers send the origin in lower case, with no default port.
		if h.cfg.PublicOrigin != "" && o == h.cfg.PublicOrigin {
			return true
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return o == scheme+"://"+r.Host
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}

// originOf is the origin of a URL ("https://ds4p.example" of
// "https://DS4P.example:443/fhir"), as a browser serializes it.
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("console: public origin %q is not an http(s) URL with a host", raw)
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}
