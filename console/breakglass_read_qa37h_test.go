package console

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// TestBreakGlassQueueReadRecordedQA37H (QA round 37, helper H, on
// 67faf46): the console's break-the-glass queue answers whole ledger
// entries (the patient, the recipient, the records disclosed in an
// emergency, typically Part 2 ones) from the ledger itself, and left no
// audit-read entry, where GET /admin/audit?break_glass=true leaves one: an
// auditor read a patient's emergency disclosures without a trace. The
// queue's read is now recorded before its answer, with the auditor as
// caller.
func TestBreakGlassQueueReadRecordedQA37H(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := f.ledger.Append(t.Context(), entry("Patient/p1", t0, []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	b := f.login(t, auditorTok)
	rec := f.call(b, "audit/breakglass", `{"limit":2}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Patient/p1") {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	reads, err := f.ledger.Find(t.Context(), audit.Query{AuditReads: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 1 || reads[0].Caller.Subject != "aud" || !strings.HasPrefix(reads[0].Query, "console/api/audit/breakglass?") || len(reads[0].Disclosed) != 0 {
		t.Fatalf("audit reads after the queue: %+v, want one by aud of the queue", reads)
	}
	if n, err := f.ledger.Verify(t.Context()); err != nil || n != 2 {
		t.Errorf("verify: %d, %v", n, err)
	}
}

// failingAppend is a ledger whose appends fail (a full disk).
type failingAppend struct{ Ledger }

func (failingAppend) Append(context.Context, ...audit.Entry) error {
	return errors.New("disk full")
}

// TestBreakGlassQueueUnrecordedWithheldQA37H: a queue read that cannot be
// recorded is not answered.
func TestBreakGlassQueueUnrecordedWithheldQA37H(t *testing.T) {
	t.Parallel()
	var l Ledger
	f := newFixture(t, func(c *Config) { l = c.Ledger; c.Ledger = failingAppend{c.Ledger} })
	if err := l.(*audit.Ledger).Append(t.Context(), entry("Patient/p1", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	rec := f.call(f.login(t, auditorTok), "audit/breakglass", `{}`)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "Patient/p1") {
		t.Errorf("queue with the ledger failing to append: %d %s, want 500 and no entry", rec.Code, rec.Body)
	}
}
