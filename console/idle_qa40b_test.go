package console

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRefusedCallsKeepNoSessionAliveQA40B (QA round 40, helper B): a
// session ends idle_timeout after its last use, so that a console left
// open on a shared workstation asks for a sign-in (HIPAA 164.312(a)(2)(iii)
// automatic logoff). But any request carrying the cookie counted as use,
// even one the console then refused for its missing CSRF token or foreign
// origin. The cookie is SameSite=Strict, which still lets another site of
// the same registrable domain (a sibling subdomain's page the user has
// open) send it: posting to /console/api/... every few minutes kept the
// session alive for as long as the token lived, and whoever next opened
// the console in that browser found the auditor's session (200 on
// /console/api/session, then the ledger). Only a request that passes the
// session's CSRF and origin checks now counts as use.
func TestRefusedCallsKeepNoSessionAliveQA40B(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.IdleTimeout = 30 * time.Minute })
	b := f.login(t, auditorTok)
	for _, hdr := range []map[string]string{
		{"Content-Type": "text/plain", "Sec-Fetch-Site": "same-site"},                                // a form or no-cors post, no CSRF token
		{"Content-Type": "application/json", "Origin": "https://sibling.example"},                    // a wrong origin
		{"Content-Type": "application/json", "X-CSRF-Token": "guess", "Sec-Fetch-Site": "same-site"}, // a wrong token
	} {
		f.clock.add(20 * time.Minute)
		req := map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value}
		for k, v := range hdr {
			req[k] = v
		}
		if rec := f.do("POST", "/console/api/audit/search", `{}`, req); rec.Code != http.StatusForbidden && rec.Code != http.StatusUnauthorized {
			t.Fatalf("a refused call (%v): %d %s", hdr, rec.Code, rec.Body)
		}
	}
	// 60 minutes after the sign-in, the last real use: the session is over.
	rec := f.do("GET", "/console/api/session", "", map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value})
	if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), `"csrf"`) {
		t.Errorf("the session after 60 minutes of refused calls only: %d %s, want 401 (idle)", rec.Code, rec.Body)
	}
	// A call that passes the checks still keeps a session.
	b = f.login(t, auditorTok)
	for range 3 {
		f.clock.add(20 * time.Minute)
		if rec := f.call(b, "audit/search", `{}`); rec.Code != http.StatusOK {
			t.Fatalf("a real call: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := f.do("GET", "/console/api/session", "", map[string]string{"Cookie": b.cookie.Name + "=" + b.cookie.Value}); rec.Code != http.StatusOK {
		t.Errorf("a session used every 20 minutes: %d %s", rec.Code, rec.Body)
	}
}
