package console

import (
	"context"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
)

// orgVerifier is fakeVerifier with the organisation an identity provider
// states for the auditors of one department.
type orgVerifier struct{ fakeVerifier }

func (v orgVerifier) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	c, err := v.fakeVerifier.Verify(ctx, raw)
	c.Org, c.OrgName, c.OrgAddress = "Organization/privacy-office", "Privacy Office", "1 Main St"
	return c, err
}

// TestBreakGlassQueueReadNamesOrgQA40B (QA round 40, helper B, on
// 2ebb761): the console's record of an auditor's read of the
// break-the-glass queue named the auditor's subject and client but not its
// organisation, which GET /admin/audit's record of the same read names
// (recordAuditRead). The ledger's recipient filter matches the caller's
// subject or organisation, so a second auditor reviewing one office's reads
// (GET /admin/audit?audit_reads=true&recipient=Organization/...) found the
// admin API's and missed every queue read of the console.
func TestBreakGlassQueueReadNamesOrgQA40B(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Verifier = orgVerifier{} })
	if err := f.ledger.Append(t.Context(), entry("Patient/p1", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	if rec := f.call(f.login(t, auditorTok), "audit/breakglass", `{}`); rec.Code != 200 {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	reads, err := f.ledger.Find(t.Context(), audit.Query{AuditReads: true, Recipient: "Organization/privacy-office"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 1 {
		t.Fatalf("audit reads of Organization/privacy-office: %d, want the queue's read", len(reads))
	}
	want := audit.Party{Subject: "aud", Org: "Organization/privacy-office", Name: "Privacy Office", Address: "1 Main St"}
	if reads[0].Caller != want {
		t.Errorf("the read's caller: %+v, want %+v (as the admin API records it)", reads[0].Caller, want)
	}
}
