package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/rego"
)

// TestAlertCallsForward checks what the alert calls send to the admin API
// (method, path, query, the session's token) and what they refuse before
// sending anything: ids that are not alert ids, other roles, and calls
// without the CSRF token.
func TestAlertCallsForward(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	b := f.login(t, auditorTok)
	for body, want := range map[string]string{`{}`: "open", `{"all":false}`: "open", `{"all":true}`: "all"} {
		rec := f.call(b, "audit/alerts", body)
		got := f.admin.last()
		q, _ := url.ParseQuery(got.RawQuery)
		if rec.Code != 200 || got.Method != "GET" || got.Path != "/admin/alerts" || q.Get("status") != want ||
			len(q) != 1 || got.Auth != "Bearer "+auditorTok {
			t.Fatalf("list %s forwarded as %+v (%d)", body, got, rec.Code)
		}
	}
	if rec := f.call(b, "audit/alerts/clear", `{"id":"bulk-0a1b2c3d4e5f6071"}`); rec.Code != 200 {
		t.Fatalf("clear: %d %s", rec.Code, rec.Body)
	}
	if got := f.admin.last(); got.Method != "POST" || got.Path != "/admin/alerts/bulk-0a1b2c3d4e5f6071/clear" ||
		got.Auth != "Bearer "+auditorTok || got.RawQuery != "" {
		t.Fatalf("clear forwarded as %+v", got)
	}
	calls := len(f.admin.calls)
	for _, body := range []string{`{}`, `{"id":""}`, `{"id":"../audit"}`, `{"id":".."}`, `{"id":"a/clear?x=1"}`,
		`{"id":"` + strings.Repeat("a", 65) + `"}`, `{"id":"bulk-1","extra":1}`} {
		if rec := f.call(b, "audit/alerts/clear", body); rec.Code != http.StatusBadRequest {
			t.Errorf("clear %s: %d, want 400", body, rec.Code)
		}
	}
	for _, tok := range []string{complianceTok, consentTok} {
		o := f.login(t, tok)
		for _, path := range []string{"audit/alerts", "audit/alerts/clear"} {
			if rec := f.call(o, path, `{"id":"bulk-1"}`); rec.Code != http.StatusForbidden {
				t.Errorf("%s → %s: %d, want 403", tok, path, rec.Code)
			}
		}
	}
	noCSRF := b
	noCSRF.csrf = ""
	if rec := f.call(noCSRF, "audit/alerts/clear", `{"id":"bulk-1"}`); rec.Code != http.StatusForbidden {
		t.Errorf("clear without the CSRF token: %d, want 403", rec.Code)
	}
	if n := len(f.admin.calls); n != calls {
		t.Fatalf("%d refused calls reached the admin API", n-calls)
	}
}

// TestAlertsOnARealProxy mounts the console on a real proxy whose bbolt
// alert store holds an open alert that blocks a caller: the auditor lists
// it, a clear without the CSRF token or by another role changes nothing,
// and the auditor's clear closes it in the auditor's name and lets the
// caller through again.
func TestAlertsOnARealProxy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil) // for its bbolt-backed ledger
	db := openTempDB(t)
	consents, err := consent.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := proxy.OpenAlerts(db)
	if err != nil {
		t.Fatal(err)
	}
	raised := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	open := proxy.Alert{ID: "bulk-00112233aabbccdd", Kind: proxy.AlertKindBulkPatients, Status: proxy.AlertOpen,
		Caller: "sub:bulk-bot", Subject: "bulk-bot", Org: "Organization/o", Client: "etl", Count: 201, Threshold: 200,
		Window: "10m0s", RequestID: "req-1", RaisedAt: raised, Blocking: true}
	if err := alerts.PutAlert(t.Context(), open); err != nil {
		t.Fatal(err)
	}
	engine, err := policy.New(t.Context(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL + "/fhir")
	srv, err := proxy.New(proxy.Options{Upstream: u, Protection: proxy.Protection{Bulk: proxy.BulkRules{Enabled: true, Block: true}}},
		proxy.Deps{Labeller: labels.Default(), Decider: engine, Consents: consents, Ledger: f.ledger, Auth: fakeVerifier{}, Alerts: alerts})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := New(ctx, Config{Verifier: fakeVerifier{}, Admin: srv.Handler(), Ledger: f.ledger, Reviews: rs,
		Rules: func() []labels.Rule { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("/console", c)
	h := srv.Handler()
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	fhirAsBot := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/fhir/Patient/p1", nil)
		req.Header.Set("Authorization", "Bearer bulk-bot|user/*.read")
		return serve(req)
	}
	if rec := fhirAsBot(); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "blocked pending review of security alert "+open.ID) {
		t.Fatalf("the blocked caller got %d %s", rec.Code, rec.Body)
	}
	login := func(token string) (*http.Cookie, string) {
		req := httptest.NewRequest("POST", "/console/api/login", strings.NewReader(`{"token":"`+token+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := serve(req)
		var s struct{ CSRF string }
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &s) != nil {
			t.Fatalf("login: %d %s", rec.Code, rec.Body)
		}
		return rec.Result().Cookies()[0], s.CSRF
	}
	call := func(cookie *http.Cookie, csrf, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/console/api/"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.AddCookie(cookie)
		return serve(req)
	}
	list := func(cookie *http.Cookie, csrf string, all bool) []proxy.Alert {
		t.Helper()
		rec := call(cookie, csrf, "audit/alerts", `{"all":`+map[bool]string{true: "true", false: "false"}[all]+`}`)
		var out struct {
			Alerts []proxy.Alert
			Count  int
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Count != len(out.Alerts) {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		return out.Alerts
	}
	aud, audCSRF := login(auditorTok)
	got := list(aud, audCSRF, false)
	if len(got) != 1 || got[0].ID != open.ID || got[0].Subject != "bulk-bot" || got[0].Client != "etl" ||
		got[0].Threshold != 200 || got[0].Count != 201 || !got[0].Blocking || !got[0].RaisedAt.Equal(raised) {
		t.Fatalf("open alerts: %+v", got)
	}
	cm, cmCSRF := login(consentTok)
	if rec := call(cm, cmCSRF, "audit/alerts/clear", `{"id":"`+open.ID+`"}`); rec.Code != http.StatusForbidden {
		t.Fatalf("a consent manager's clear: %d", rec.Code)
	}
	if rec := call(aud, "", "audit/alerts/clear", `{"id":"`+open.ID+`"}`); rec.Code != http.StatusForbidden {
		t.Fatalf("a clear without the CSRF token: %d", rec.Code)
	}
	if a, _, _ := alerts.GetAlert(t.Context(), open.ID); a.Status != proxy.AlertOpen || fhirAsBot().Code != http.StatusForbidden {
		t.Fatalf("a refused clear changed the alert: %+v", a)
	}
	if rec := call(aud, audCSRF, "audit/alerts/clear", `{"id":"bulk-ffffffffffffffff"}`); rec.Code != http.StatusNotFound {
		t.Fatalf("clearing an unknown alert: %d %s", rec.Code, rec.Body)
	}
	rec := call(aud, audCSRF, "audit/alerts/clear", `{"id":"`+open.ID+`"}`)
	var cleared proxy.Alert
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &cleared) != nil || cleared.Status != proxy.AlertCleared ||
		cleared.ClearedBy != "aud" || cleared.ClearedAt == nil {
		t.Fatalf("clear: %d %s", rec.Code, rec.Body)
	}
	if got := list(aud, audCSRF, false); len(got) != 0 {
		t.Fatalf("open alerts after the clear: %+v", got)
	}
	if got := list(aud, audCSRF, true); len(got) != 1 || got[0].Status != proxy.AlertCleared || got[0].ClearedBy != "aud" {
		t.Fatalf("all alerts after the clear: %+v", got)
	}
	if rec := fhirAsBot(); strings.Contains(rec.Body.String(), "blocked pending review") || rec.Code == http.StatusForbidden {
		t.Fatalf("the caller is still refused after the clear: %d %s", rec.Code, rec.Body)
	}
}
