package console

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
)

const (
	auditorTok    = "aud|ds4p/auditor"
	complianceTok = "pol|ds4p/policy-author"
	consentTok    = "cm|ds4p/consent-manager"
)

func TestLoginCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	c := b.cookie
	if c.Name != CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console" || c.Secure {
		t.Fatalf("cookie over http: %+v", c)
	}
	if c.MaxAge <= 0 || c.MaxAge > int((8*time.Hour).Seconds())+1 {
		t.Fatalf("cookie lifetime %d s", c.MaxAge)
	}
	if strings.Contains(c.Value, "aud") {
		t.Fatal("the cookie carries the token")
	}
	// Over TLS the cookie is Secure.
	req := httptest.NewRequest("POST", "/console/api/login", strings.NewReader(`{"token":"aud|ds4p/auditor"}`))
	req.Header.Set("Content-Type", "application/json")
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if cs := rec.Result().Cookies(); rec.Code != 200 || len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("over TLS: %d %+v", rec.Code, cs)
	}
}

func TestLoginRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	json := map[string]string{"Content-Type": "application/json"}
	for name, c := range map[string]struct {
		body   string
		hdr    map[string]string
		status int
	}{
		"bad token":        {`{"token":"garbage"}`, json, http.StatusUnauthorized},
		"no admin role":    {`{"token":"dr|user/*.read"}`, json, http.StatusForbidden},
		"not JSON":         {`{"token":"aud|ds4p/auditor"}`, map[string]string{"Content-Type": "text/plain"}, http.StatusForbidden},
		"another origin":   {`{"token":"aud|ds4p/auditor"}`, map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, http.StatusForbidden},
		"cross-site fetch": {`{"token":"aud|ds4p/auditor"}`, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		"not an object":    {`"aud|ds4p/auditor"`, json, http.StatusBadRequest},
	} {
		rec := f.do("POST", "/console/api/login", c.body, c.hdr)
		if rec.Code != c.status || len(rec.Result().Cookies()) != 0 {
			t.Errorf("%s: %d (cookies %d), want %d", name, rec.Code, len(rec.Result().Cookies()), c.status)
		}
	}
	// A token that expired moments ago still verifies (clock skew) but
	// must not read as a successful sign-in to a session already over.
	expired := fmt.Sprintf(`{"token":"aud|ds4p/auditor|%d"}`, f.clock.now().Add(-5*time.Second).Unix())
	if rec := f.do("POST", "/console/api/login", expired, json); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("expired token: %d %s", rec.Code, rec.Body)
	}
	if n := f.h.sessions.len(); n != 0 {
		t.Fatalf("%d sessions after refused sign-ins", n)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	send := func(hdr map[string]string) int {
		req := httptest.NewRequest("POST", "/console/api/audit/search", strings.NewReader(`{}`))
		req.AddCookie(b.cookie)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec.Code
	}
	ct := "application/json"
	for name, c := range map[string]struct {
		hdr    map[string]string
		status int
	}{
		"no token":       {map[string]string{"Content-Type": ct}, http.StatusForbidden},
		"wrong token":    {map[string]string{"Content-Type": ct, "X-CSRF-Token": b.csrf + "x"}, http.StatusForbidden},
		"form post":      {map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": b.csrf}, http.StatusForbidden},
		"foreign origin": {map[string]string{"Content-Type": ct, "X-CSRF-Token": b.csrf, "Origin": "https://evil.example"}, http.StatusForbidden},
		"same origin":    {map[string]string{"Content-Type": ct, "X-CSRF-Token": b.csrf, "Origin": "http://example.com"}, http.StatusOK},
		"no origin":      {map[string]string{"Content-Type": ct, "X-CSRF-Token": b.csrf}, http.StatusOK},
	} {
		if got := send(c.hdr); got != c.status {
			t.Errorf("%s: %d, want %d", name, got, c.status)
		}
	}
	// Only the accepted calls reached the admin API.
	if n := len(f.admin.calls); n != 2 {
		t.Fatalf("%d admin calls, want 2", n)
	}
	// Without a session: 401.
	req := httptest.NewRequest("POST", "/console/api/audit/search", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-CSRF-Token", b.csrf)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("no cookie: %d", rec.Code)
	}
}

func TestRolesReachOnlyTheirCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	roles := map[string]string{auditorTok: "audit/", complianceTok: "policy/ labels/", consentTok: "consent/"}
	bodies := map[string]string{"consent/history": `{"id":"c1"}`, "consent/revoke": `{"id":"c1"}`, "consent/search": `{"patient":"Patient/p"}`}
	for tok, prefixes := range roles {
		b := f.login(t, tok)
		for path := range f.h.api() {
			body := bodies[path]
			if body == "" {
				body = `{}`
			}
			mine := false
			for _, p := range strings.Fields(prefixes) {
				mine = mine || strings.HasPrefix(path, p)
			}
			rec := f.call(b, path, body)
			if mine == (rec.Code == http.StatusForbidden) {
				t.Errorf("%s → %s: %d %s", tok, path, rec.Code, rec.Body)
			}
		}
	}
	// A token with two roles reaches both.
	b := f.login(t, "both|ds4p/auditor ds4p/consent-manager")
	if f.call(b, "audit/search", `{}`).Code != 200 || f.call(b, "consent/search", `{"patient":"Patient/p"}`).Code != 200 ||
		f.call(b, "policy/status", `{}`).Code != http.StatusForbidden {
		t.Fatal("two roles")
	}
}

func TestForwardsToAdminWithTheSessionToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	rec := f.call(b, "audit/search", `{"patient":"Patient/p 1","purpose":"TREAT","break_glass":true,"limit":5,"cursor":"AQ"}`)
	got := f.admin.last()
	q, _ := url.ParseQuery(got.RawQuery)
	if rec.Code != 200 || got.Method != "GET" || got.Path != "/admin/audit" || got.Auth != "Bearer "+auditorTok ||
		q.Get("patient") != "Patient/p 1" || q.Get("purpose") != "TREAT" || q.Get("break_glass") != "true" ||
		q.Get("limit") != "5" || q.Get("cursor") != "AQ" || q.Has("recipient") {
		t.Fatalf("forwarded %+v (%d)", got, rec.Code)
	}
	c := f.login(t, consentTok)
	f.call(c, "consent/revoke", `{"id":"abc-1"}`)
	if got := f.admin.last(); got.Method != "POST" || got.Path != "/admin/Consent/abc-1/$revoke" {
		t.Fatalf("revoke forwarded as %+v", got)
	}
	if rec := f.call(c, "consent/revoke", `{"id":"../audit"}`); rec.Code != http.StatusBadRequest {
		t.Fatalf("a path in the id: %d", rec.Code)
	}
	if rec := f.call(c, "consent/search", `{"patient":"Patient/p","extra":1}`); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", rec.Code)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.IdleTimeout = 30 * time.Minute; c.MaxSessions = 2 })
	idle := f.login(t, auditorTok)
	f.clock.add(29 * time.Minute)
	if f.call(idle, "audit/search", `{}`).Code != 200 {
		t.Fatal("a session used within the idle timeout ended")
	}
	f.clock.add(29 * time.Minute) // used 29 minutes ago: still alive
	if f.call(idle, "audit/search", `{}`).Code != 200 {
		t.Fatal("use did not extend the session")
	}
	f.clock.add(31 * time.Minute)
	if code := f.call(idle, "audit/search", `{}`).Code; code != http.StatusUnauthorized {
		t.Fatalf("idle 31 minutes: %d", code)
	}
	// The token's expiry ends the session even while it is used.
	exp := f.clock.now().Add(5 * time.Minute).Unix()
	short := f.login(t, fmt.Sprintf("aud|ds4p/auditor|%d", exp))
	if c := short.cookie.MaxAge; c > 5*60+1 {
		t.Fatalf("cookie outlives the token: %d s", c)
	}
	for range 3 {
		f.clock.add(2 * time.Minute)
		f.call(short, "audit/search", `{}`)
	}
	if code := f.call(short, "audit/search", `{}`).Code; code != http.StatusUnauthorized {
		t.Fatalf("after the token's exp: %d", code)
	}
	// The store is bounded: the least recently used session goes first.
	a, b := f.login(t, auditorTok), f.login(t, auditorTok)
	f.clock.add(time.Second)
	f.call(a, "audit/search", `{}`)
	f.login(t, auditorTok)
	if f.h.sessions.len() != 2 || f.call(b, "audit/search", `{}`).Code != http.StatusUnauthorized || f.call(a, "audit/search", `{}`).Code != 200 {
		t.Fatal("the least recently used session was not the one evicted")
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	req := httptest.NewRequest("POST", "/console/api/logout", nil)
	req.AddCookie(b.cookie)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || f.call(b, "audit/search", `{}`).Code != 200 {
		t.Fatalf("logout without the CSRF token: %d", rec.Code)
	}
	req.Header.Set("X-CSRF-Token", b.csrf)
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || f.call(b, "audit/search", `{}`).Code != http.StatusUnauthorized {
		t.Fatalf("logout: %d", rec.Code)
	}
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("the cookie was not cleared: %+v", cs)
	}
}

func TestStaticPagesAndHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rec := f.do("GET", "/console/", "", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<script type="module" src="/console/app.js">`) ||
		!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /console/: %d %v", rec.Code, rec.Header())
	}
	if rec := f.do("GET", "/console/app.js", "", nil); rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
		t.Fatalf("app.js: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := f.do("GET", "/console", "", nil); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d", rec.Code)
	}
	if rec := f.do("GET", "/console/api/audit/search", "", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("GET on an API call: %d", rec.Code)
	}
}

func TestBreakGlassQueueAndReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := f.ledger.Append(t.Context(), entry("Patient/p", t0.Add(time.Duration(i)*time.Minute), []string{"ETREAT"}, i%2 == 0)); err != nil {
			t.Fatal(err)
		}
	}
	b := f.login(t, auditorTok)
	var q struct {
		Entries []queueEntry
		Next    string
	}
	decode := func(rec *httptest.ResponseRecorder) {
		t.Helper()
		q.Entries, q.Next = nil, ""
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &q) != nil {
			t.Fatalf("queue: %d %s", rec.Code, rec.Body)
		}
	}
	decode(f.call(b, "audit/breakglass", `{"unreviewed":true}`))
	if len(q.Entries) != 3 || q.Entries[0].Seq != 1 || q.Entries[2].Seq != 5 || q.Next != "" {
		t.Fatalf("queue: %+v", q)
	}
	decode(f.call(b, "audit/breakglass", `{"limit":2}`))
	if len(q.Entries) != 2 || q.Next == "" {
		t.Fatalf("first page of 2: %+v", q)
	}
	decode(f.call(b, "audit/breakglass", `{"limit":2,"cursor":"`+q.Next+`"}`))
	if len(q.Entries) != 1 || q.Entries[0].Seq != 5 {
		t.Fatalf("second page: %+v", q.Entries)
	}
	hash, _, _ := f.ledger.HashAt(t.Context(), 3)
	if rec := f.call(b, "audit/review", `{"seq":3,"hash":"`+strings.Repeat("0", 64)+`"}`); rec.Code != http.StatusConflict {
		t.Fatalf("wrong hash: %d", rec.Code)
	}
	if rec := f.call(b, "audit/review", `{"seq":99,"hash":"`+hash+`"}`); rec.Code != http.StatusNotFound {
		t.Fatalf("no such entry: %d", rec.Code)
	}
	// Entry 2 is an ordinary disclosure: nothing to review.
	hash2, _, _ := f.ledger.HashAt(t.Context(), 2)
	if rec := f.call(b, "audit/review", `{"seq":2,"hash":"`+hash2+`"}`); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "not a break-the-glass") {
		t.Fatalf("review of an ordinary entry: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(b, "audit/review", `{"seq":3,"hash":"`+hash+`","note":"ok"}`); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"reviewer":"aud"`) {
		t.Fatalf("review: %d %s", rec.Code, rec.Body)
	}
	decode(f.call(b, "audit/breakglass", `{"unreviewed":true}`))
	if len(q.Entries) != 2 || q.Entries[0].Seq != 1 || q.Entries[1].Seq != 5 {
		t.Fatalf("after the review: %+v", q.Entries)
	}
	decode(f.call(b, "audit/breakglass", `{}`))
	if len(q.Entries) != 3 || len(q.Entries[1].Reviews) != 1 || q.Entries[1].Reviews[0].Note != "ok" {
		t.Fatalf("all, with reviews: %+v", q.Entries)
	}
}

func TestVerifyChain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for i := range 3 {
		if err := f.ledger.Append(t.Context(), entry("Patient/p", time.Now().Add(time.Duration(i)), nil, false)); err != nil {
			t.Fatal(err)
		}
	}
	b := f.login(t, auditorTok)
	if rec := f.call(b, "audit/verify", `{"run":true}`); rec.Code != 200 {
		t.Fatalf("run: %d", rec.Code)
	}
	var st struct {
		Verification struct {
			Running  bool
			OK       *bool
			Verified uint64
		}
		Head struct{ Seq uint64 }
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := f.call(b, "audit/verify", `{}`)
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		if !st.Verification.Running || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.Verification.OK == nil || !*st.Verification.OK || st.Verification.Verified != 3 || st.Head.Seq != 3 {
		t.Fatalf("verification: %+v", st)
	}
}

func TestStatsCountEachEntryOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	day := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	f.clock.t = day.Add(24 * time.Hour)
	add := func(e audit.Entry) {
		if err := f.ledger.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	add(entry("Patient/a", day, []string{"TREAT"}, false))
	add(entry("Patient/a", day.Add(24*time.Hour), []string{"TREAT", "HPAYMT"}, false))
	b := f.login(t, auditorTok)
	var s struct {
		Days               []string
		DisclosedByPurpose map[string][]int `json:"disclosed_by_purpose"`
		WithheldByTopic    map[string][]int `json:"withheld_by_topic"`
		DisclosedByTopic   map[string][]int `json:"disclosed_by_topic"`
		EntriesCounted     int              `json:"entries_counted"`
		Complete           bool             `json:"complete"`
	}
	get := func() {
		t.Helper()
		for range 500 { // until the background first count has finished
			s.DisclosedByPurpose, s.WithheldByTopic, s.DisclosedByTopic, s.Complete = nil, nil, nil, false
			rec := f.call(b, "audit/stats", `{"from":"2026-06-09","to":"2026-06-11"}`)
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &s) != nil {
				t.Fatalf("stats: %d %s", rec.Code, rec.Body)
			}
			if s.Complete {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("the first count never finished")
	}
	get()
	if len(s.Days) != 3 || s.Days[1] != "2026-06-10" || fmt.Sprint(s.DisclosedByPurpose["TREAT"]) != "[0 1 1]" ||
		fmt.Sprint(s.DisclosedByPurpose["HPAYMT"]) != "[0 0 1]" || fmt.Sprint(s.WithheldByTopic["HIV"]) != "[0 1 1]" ||
		fmt.Sprint(s.DisclosedByTopic["SUD"]) != "[0 1 1]" || s.DisclosedByTopic["42CFRPart2"] != nil {
		t.Fatalf("stats: %+v", s)
	}
	// An entry committed later but dated earlier is counted once, on its day.
	add(entry("Patient/b", day.Add(-time.Hour), []string{"TREAT"}, false))
	get()
	get()
	if fmt.Sprint(s.DisclosedByPurpose["TREAT"]) != "[0 2 1]" || s.EntriesCounted != 3 {
		t.Fatalf("after a late entry: %+v", s)
	}
	if rec := f.call(b, "audit/stats", `{"from":"2020-01-01","to":"2026-01-01"}`); rec.Code != http.StatusBadRequest {
		t.Fatalf("six years: %d", rec.Code)
	}
}

func TestLabelRulesByTopic(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rec := f.call(f.login(t, complianceTok), "labels/rules", `{}`)
	var out struct {
		Topics []struct {
			Topic string
			Rules []ruleJSON
		}
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	found := false
	for _, tp := range out.Topics {
		for _, r := range tp.Rules {
			if r.ID == "sud-icd10cm" {
				found = tp.Topic == "SUD" && len(r.Ranges) == 1 && r.Ranges[0] == [2]string{"F10", "F19"} &&
					strings.Join(r.Labels, ",") == "SUD,confidentiality R"
			}
		}
	}
	if !found {
		t.Fatalf("sud-icd10cm not listed under SUD as expected: %s", rec.Body)
	}
}

// TestBodyErrorsInPlainWords: a call body the console cannot read is a
// 400 that names the field and the JSON it takes, an unknown field, or
// JSON that is not valid, in the words of the JSON sent and never of Go
// (no "Go struct field", "uint64" or "unmarshal").
func TestBodyErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	for _, c := range []struct{ path, body, want string }{
		{"audit/review", `{"seq":"25"}`, "seq must be a number"},
		{"audit/review", `{"seq":-1}`, "seq must be a whole number, 0 or more"},
		{"audit/review", `{"seq":1.5}`, "seq must be a whole number, 0 or more"},
		{"audit/review", `{"seq":3,"hash":5}`, "hash must be a string"},
		{"audit/review", `{"seq":3,"x":1}`, `unknown field "x"`},
		{"audit/review", `{"seq":`, "the request body is not valid JSON"},
		{"audit/review", `{"seq":3}}`, "the request body is not valid JSON"},
		{"audit/review", `{"seq":3} {"seq":4}`, "the request body is not valid JSON"},
		{"audit/review", `[3]`, "the request body must be a JSON object"},
		{"audit/breakglass", `{"unreviewed":"yes"}`, "unreviewed must be true or false"},
		{"audit/breakglass", `{"limit":"10"}`, "limit must be a number"},
		{"audit/search", `{"break_glass":1}`, "break_glass must be true or false"},
		{"audit/search", `{"patient":["p1"]}`, "patient must be a string"},
		{"audit/alerts/clear", `{"id":{}}`, "id must be a string"},
	} {
		rec := f.call(b, c.path, c.body)
		var got struct{ Error string }
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.Error != c.want {
			t.Errorf("%s %s = %d %s; want 400 and %q", c.path, c.body, rec.Code, rec.Body, c.want)
		}
	}
	// A body that reads well still works, an empty one as {}.
	if rec := f.call(b, "audit/breakglass", `{"limit":2} `); rec.Code != http.StatusOK {
		t.Errorf("a good body: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(b, "audit/breakglass", ""); rec.Code != http.StatusOK {
		t.Errorf("an empty body: %d %s", rec.Code, rec.Body)
	}
}

// TestReviewRefusesSelfReview: QA's token with ETREAT, a break-glass claim
// and user/*.read ds4p/auditor (subject selfrev) read data under
// break-the-glass, signed in to the console and reviewed its own ledger
// entry (200, reviewer selfrev). The recipient of a disclosure, by subject
// or by client, may not review it (separation of duties): 403, nothing
// recorded; another auditor may.
func TestReviewRefusesSelfReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	bySubject := entry("Patient/p", t0, []string{"ETREAT"}, true)
	bySubject.Caller = audit.Party{Subject: "selfrev", Org: "Organization/er", Client: "ehr"}
	byClient := entry("Patient/p", t0.Add(time.Minute), []string{"ETREAT"}, true)
	byClient.Caller = audit.Party{Subject: "svc-etl", Client: "etl-client"}
	if err := f.ledger.Append(t.Context(), bySubject, byClient); err != nil {
		t.Fatal(err)
	}
	h1, _, _ := f.ledger.HashAt(t.Context(), 1)
	h2, _, _ := f.ledger.HashAt(t.Context(), 2)
	review := func(b browser, seq int, hash string) *httptest.ResponseRecorder {
		return f.call(b, "audit/review", fmt.Sprintf(`{"seq":%d,"hash":%q,"note":"justified"}`, seq, hash))
	}
	for _, c := range []struct {
		name, token string
		seq         int
		hash        string
	}{
		{"the recipient's own subject", "selfrev|user/*.read ds4p/auditor", 1, h1},
		{"the recipient's subject through another client", "selfrev#console|ds4p/auditor", 1, h1},
		{"the recipient's client", "other-auditor#etl-client|ds4p/auditor", 2, h2},
		{"the recipient's client as subject", "etl-client|ds4p/auditor", 2, h2},
	} {
		rec := review(f.login(t, c.token), c.seq, c.hash)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "separation of duties") {
			t.Errorf("%s: review answered %d %s, want 403", c.name, rec.Code, rec.Body)
		}
	}
	rs, err := f.h.cfg.Reviews.For(t.Context(), []uint64{1, 2})
	if err != nil || len(rs[1])+len(rs[2]) != 0 {
		t.Fatalf("refused reviews were recorded: %v %v", rs, err)
	}
	other := f.login(t, "aud#console|ds4p/auditor")
	for seq, hash := range map[int]string{1: h1, 2: h2} {
		if rec := review(other, seq, hash); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"reviewer":"aud"`) {
			t.Fatalf("another auditor's review of %d: %d %s", seq, rec.Code, rec.Body)
		}
	}
}

// TestSessionStartLogNamesSubject: "console session started" named the
// roles only, so a sign-in was attributable to no one; it names the
// signed-in subject and client (never the token).
func TestSessionStartLogNamesSubject(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	f := newFixture(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	f.login(t, "aud-carol#console|ds4p/auditor")
	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "console session started") {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	if line["subject"] != "aud-carol" || line["client"] != "console" || line["roles"] != "ds4p/auditor" {
		t.Fatalf("session start log = %v, want subject aud-carol, client console", line)
	}
	if strings.Contains(logs.String(), "aud-carol#console|") {
		t.Fatalf("the log carries the token: %s", logs.String())
	}
}

// TestBlockedCallerRefused: a caller blocked by a bulk-access alert that
// holds ds4p/auditor was refused by the proxy's /admin API but still read
// the ledger through the console's own calls (the break-the-glass queue,
// reviews, verification, charts). It can neither sign in nor use a session
// it had; others are unaffected.
func TestBlockedCallerRefused(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	blocked := map[string]bool{}
	f := newFixture(t, func(c *Config) {
		c.Blocked = func(subject, client string) (string, bool) {
			mu.Lock()
			defer mu.Unlock()
			return "bulk-0123456789abcdef", blocked["sub:"+subject]
		}
	})
	if err := f.ledger.Append(t.Context(), entry("Patient/p", time.Now(), []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, "bulkaud#etl|ds4p/auditor")
	mu.Lock()
	blocked["sub:bulkaud"] = true
	mu.Unlock()
	for _, call := range []string{"audit/breakglass", "audit/verify", "audit/stats", "audit/search", "audit/alerts"} {
		if rec := f.call(b, call, `{}`); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "bulk-0123456789abcdef") {
			t.Errorf("%s by a blocked caller: %d %s, want 403 naming the alert", call, rec.Code, rec.Body)
		}
	}
	body, _ := json.Marshal(map[string]string{"token": "bulkaud#etl|ds4p/auditor"})
	if rec := f.do("POST", "/console/api/login", string(body), map[string]string{"Content-Type": "application/json"}); rec.Code != http.StatusForbidden {
		t.Errorf("sign-in of a blocked caller: %d %s, want 403", rec.Code, rec.Body)
	}
	if rec := f.call(f.login(t, auditorTok), "audit/breakglass", `{}`); rec.Code != http.StatusOK {
		t.Errorf("another auditor: %d %s", rec.Code, rec.Body)
	}
}
