package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// CookieName is the session cookie.
const CookieName = "ds4p_console"

// Roles are the admin scopes the console knows, in the order of its menu.
var Roles = []string{authn.AuditorScope, authn.PolicyAuthorScope, authn.ConsentManagerScope}

// session is one signed-in browser.
type session struct {
	id       string
	csrf     string
	token    string // the bearer token, never sent back to the browser
	subject  string
	client   string // the token's client, when it names one
	roles    []string
	created  time.Time
	lastSeen time.Time
	expires  time.Time // the token's exp, or created + MaxSessionAge
}

func (s *session) has(role string) bool { return slices.Contains(s.roles, role) }

// sessions is the bounded in-memory session store.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	max  int
	idle time.Duration
	now  func() time.Time
}

func newSessions(max int, idle time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, max: max, idle: idle, now: now}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create stores a new session, evicting expired ones and then, when full,
// the least recently used.
func (ss *sessions) create(token string, caller authn.Caller, roles []string, expires time.Time) *session {
	now := ss.now()
	s := &session{
		id: randomToken(), csrf: randomToken(), token: token, subject: caller.Subject, client: caller.Client,
		roles: roles, created: now, lastSeen: now, expires: expires,
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, old := range ss.byID {
		if ss.expired(old, now) {
			delete(ss.byID, id)
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
	}
	ss.byID[s.id] = s
	return s
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return !now.Before(s.expires) || now.Sub(s.lastSeen) >= ss.idle
}

// get returns the live session of id and marks it used; an expired one is
// removed.
func (ss *sessions) get(id string) (*session, bool) {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil, false
	}
	if ss.expired(s, now) {
		delete(ss.byID, id)
		return nil, false
	}
	s.lastSeen = now
	return s, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byID)
}

// sessionOf returns the request's live session.
func (h *Handler) sessionOf(r *http.Request) (*session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, false
	}
	return h.sessions.get(c.Value)
}

// setCookie sends the session cookie; an empty value with maxAge -1 clears it.
func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// csrfOK checks the double-submitted CSRF token and, when the browser
// sends one, the Origin.
func csrfOK(r *http.Request, s *session) bool {
	if !sameOrigin(r) {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// sameOrigin is false when the request's Origin (or, without one,
// Sec-Fetch-Site) says it comes from another site.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return o == scheme+"://"+r.Host
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}
