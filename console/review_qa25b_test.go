package console

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// A review the store fails to record is the server's failure (500, the
// cause in the log, not in the answer), not a 400 that tells the auditor
// their request was wrong and shows them the store's error; a note too
// long is a 400 that says so in the console's words (QA round 25).
func TestReviewStoreFailureIsNotTheAuditors(t *testing.T) {
	t.Parallel()
	db := openTempDB(t)
	rs, err := audit.OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	f := newFixture(t, func(c *Config) {
		c.Reviews = rs
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	if err := f.ledger.Append(t.Context(), entry("Patient/p", time.Now(), []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	hash, _, _ := f.ledger.HashAt(t.Context(), 1)
	b := f.login(t, auditorTok)
	long := strings.Repeat("é", audit.MaxReviewNote/2+1)
	rec := f.call(b, "audit/review", `{"seq":1,"hash":"`+hash+`","note":"`+long+`"}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "at most 4096") || strings.Contains(rec.Body.String(), "audit:") {
		t.Fatalf("a note too long: %d %s", rec.Code, rec.Body)
	}
	if err := db.Close(); err != nil { // the review store fails from now on
		t.Fatal(err)
	}
	rec = f.call(b, "audit/review", `{"seq":1,"hash":"`+hash+`","note":"ok"}`)
	if rec.Code != http.StatusInternalServerError || bytes.Contains(rec.Body.Bytes(), []byte("audit:")) ||
		bytes.Contains(rec.Body.Bytes(), []byte("database")) {
		t.Fatalf("the store failed: %d %s, want 500 without the store's error", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "review not recorded") {
		t.Fatalf("the failure is not in the log: %s", logs)
	}
}
