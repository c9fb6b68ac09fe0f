package proxy

import (
	"context"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
)

// exchange is what the pipeline knows about the request it answers.
type exchange struct {
	requestID  string
	caller     authn.Caller
	req        fhirRequest
	publicBase string
	acceptGzip bool
	query      string // path and query below the FHIR base, for the ledger
	start      time.Time
	// notices are the NoticeHeader values the policy obliges for what the
	// response discloses (set by the pipeline, see decide.go).
	notices []string
}

type exchangeKey struct{}

func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

func (ex *exchange) policyCaller() policy.Caller {
	c := ex.caller
	pc := policy.Caller{
		Subject: c.Subject, Org: c.Org, OrgIdentifiers: nonNil(c.OrgIdentifiers), Client: c.Client,
		Scopes: nonNil(c.Scopes), Purposes: nonNil(c.Purposes),
	}
	if c.BreakGlass != "" {
		pc.BreakGlass = &policy.BreakGlass{Reason: c.BreakGlass, IssuedAt: unixOrZero(c.IssuedAt), ExpiresAt: unixOrZero(c.Expiry)}
	}
	return pc
}

func (ex *exchange) ledgerEntry(patient, revision string) *audit.Entry {
	return &audit.Entry{
		Time:           ex.start,
		RequestID:      ex.requestID,
		Caller:         audit.Party{Subject: ex.caller.Subject, Org: ex.caller.Org, Client: ex.caller.Client},
		Purposes:       ex.caller.Purposes,
		Patient:        patient,
		Interaction:    ex.req.Interaction,
		Query:          ex.query,
		PolicyRevision: revision,
	}
}

// DisclosedBy names the discloser in break-the-glass ledger records.
const DisclosedBy = "ds4p proxy"

// breakGlassRecord is the 42 CFR 2.51(c) record of an emergency disclosure:
// the recipient and their affiliation, the nature of the emergency as the
// caller stated it, and who disclosed (the entry's time is the date and
// time).
func (ex *exchange) breakGlassRecord() *audit.BreakGlass {
	return &audit.BreakGlass{
		Reason: ex.caller.BreakGlass, Recipient: ex.caller.Subject,
		Affiliation: ex.caller.Org, DisclosedBy: DisclosedBy,
	}
}

// unixOrZero is t in unix seconds, 0 for the zero time (a token without
// the claim).
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
