package console_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/console"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"github.com/ds4p/ds4p/test/console/ledgerfill"
	"go.etcd.io/bbolt"
)

// BenchmarkConsoleLedger times the console's ledger calls (session, CSRF,
// the real proxy edge and admin API, the bbolt ledger, JSON) on a large
// ledger. By default it fills a temporary ledger with 20,000 entries; for a
// million, fill a data directory once and point the benchmark at it:
//
//	go run ./test/console/fillledger -data /tmp/console-1m -n 1000000
//	DS4P_CONSOLE_BENCH_DATA=/tmp/console-1m go test -run '^$' -bench ConsoleLedger -benchtime 50x ./test/console/
func BenchmarkConsoleLedger(b *testing.B) {
	h, ledger, end := benchConsole(b)
	n, _, _ := ledger.Head(b.Context())
	b.Logf("ledger of %d entries", n)
	cookie, csrf := benchLogin(b, h)
	call := func(b *testing.B, path, body string) []byte {
		req := httptest.NewRequest("POST", "/console/api/"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	mid := end.Add(-time.Duration(n/2) * 30 * time.Second).Format(time.RFC3339)
	for _, c := range []struct{ name, path, body string }{
		{"search/first-page-50", "audit/search", `{"limit":50}`},
		{"search/from-mid-ledger-50", "audit/search", `{"limit":50,"from":"` + mid + `"}`},
		{"search/patient-50", "audit/search", `{"patient":"Patient/p-4321","limit":50}`},
		{"search/recipient-purpose-50", "audit/search", `{"recipient":"Organization/org-7","purpose":"HPAYMT","limit":50}`},
		{"search/break-glass-50", "audit/search", `{"break_glass":true,"limit":50}`},
		{"search/first-page-1000", "audit/search", `{"limit":1000}`},
		{"breakglass-queue-50", "audit/breakglass", `{"unreviewed":true,"limit":50}`},
		{"accounting/patient-json", "audit/accounting", `{"patient":"Patient/p-4321"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				size = len(call(b, c.path, c.body))
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
	b.Run("charts/first-count", func(b *testing.B) {
		var counted float64
		for b.Loop() {
			b.StopTimer()
			fresh, _, _ := benchConsoleOn(b, ledger)
			c2, t2 := benchLogin(b, fresh)
			b.StartTimer()
			req := httptest.NewRequest("POST", "/console/api/audit/stats", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", t2)
			req.AddCookie(c2)
			waitComplete(b, fresh, req, &counted)
		}
		b.ReportMetric(counted, "entries")
	})
	b.Run("charts/365-days-after-count", func(b *testing.B) {
		body := `{"from":"` + end.AddDate(-1, 0, 0).Format(time.DateOnly) + `","to":"` + end.Format(time.DateOnly) + `"}`
		call(b, "audit/stats", body)
		for b.Loop() {
			call(b, "audit/stats", body)
		}
	})
}

// waitComplete asks for the charts until the first count has finished.
func waitComplete(b *testing.B, h http.Handler, req *http.Request, counted *float64) {
	for {
		r := req.Clone(req.Context())
		r.Body = http.NoBody
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var s struct {
			Complete bool    `json:"complete"`
			Entries  float64 `json:"entries_counted"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
			b.Fatalf("stats: %d %s", rec.Code, rec.Body)
		}
		if s.Complete {
			*counted = s.Entries
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type benchVerifier struct{}

func (benchVerifier) Verify(context.Context, string) (authn.Caller, error) {
	return authn.Caller{Subject: "bench", Scopes: []string{authn.AuditorScope}, Expiry: time.Now().Add(time.Hour)}, nil
}

// benchConsole opens the ledger (DS4P_CONSOLE_BENCH_DATA, or a fresh one
// of 20,000 entries) and serves the console on a real proxy edge.
func benchConsole(b *testing.B) (http.Handler, *audit.Ledger, time.Time) {
	dir := os.Getenv("DS4P_CONSOLE_BENCH_DATA")
	fill := dir == ""
	if fill {
		dir = b.TempDir()
	}
	db, err := bbolt.Open(filepath.Join(dir, "ds4p.db"), 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	l, err := audit.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	end := time.Now().UTC()
	if fill {
		if err := ledgerfill.Fill(b.Context(), l, 20_000, end); err != nil {
			b.Fatal(err)
		}
	} else if seq, _, err := l.Head(b.Context()); err == nil && seq > 0 {
		es, err := l.EntriesAfter(b.Context(), seq-1, 1)
		if err != nil || len(es) != 1 {
			b.Fatalf("reading the newest entry: %v", err)
		}
		end = es[0].Time
	}
	h, _, _ := benchConsoleOn(b, l)
	return h, l, end
}

// benchConsoleOn builds a proxy edge with the console on ledger l.
func benchConsoleOn(b *testing.B, l *audit.Ledger) (http.Handler, *audit.Ledger, time.Time) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "other.db"), 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	consents, err := consent.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	reviews, err := audit.OpenReviews(db)
	if err != nil {
		b.Fatal(err)
	}
	engine, err := policy.New(b.Context(), rego.FS())
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse("http://127.0.0.1:1/fhir")
	srv, err := proxy.New(proxy.Options{Upstream: u}, proxy.Deps{Labeller: labels.Default(), Decider: engine,
		Consents: consents, Ledger: l, Auth: benchVerifier{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	c, err := console.New(ctx, console.Config{Verifier: benchVerifier{}, Admin: srv.Handler(), Ledger: l, Reviews: reviews,
		Rules: func() []labels.Rule { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	srv.Mount("/console", c)
	return srv.Handler(), l, time.Time{}
}

func benchLogin(b *testing.B, h http.Handler) (*http.Cookie, string) {
	req := httptest.NewRequest("POST", "/console/api/login", strings.NewReader(`{"token":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var s struct{ CSRF string }
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || rec.Code != 200 {
		b.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	return rec.Result().Cookies()[0], s.CSRF
}
