package proxy

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
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
	// explain is set for POST /admin/decide: decisions come with every
	// reason. Otherwise the pipeline asks the policy for brief decisions
	// (a deny's reasons summarised), since it uses a deny's effect only.
	explain bool
	// written are the resources ("Type/id") the request updates, patches
	// or deletes, itself or in its batch entries (label_targets.go).
	written []string
	// batchMethods are the methods of a batch or transaction request's
	// entries, by position (entries.go: writtenEntry).
	batchMethods []string
	// batchHistories tells, by position, the entries of a batch or
	// transaction request that ask for a type or system history
	// (history_bundles.go: batchHistory).
	batchHistories []bool
	// pageFlags are the flags of the page token the request followed
	// (paging.go), 0 for any other request.
	pageFlags byte
	// window is where the page the request asks for starts in the
	// upstream's pages (refill.go): the token's window for a page link,
	// the request's own path and query (size 0) for a search's first GET.
	window pageWindow
	// firstGet: a GET that followed no page link; getQuery is its query
	// as forwarded.
	firstGet bool
	getQuery string
	// fromPage: the request followed a page token, so its query is the
	// one the upstream wrote into its page link.
	fromPage bool
	// batchRequest is a batch or transaction request as forwarded (its
	// body readable again through GetBody), nil for any other request:
	// the response side reads what each entry searched by (redact.go
	// batchEntryRequests).
	batchRequest *http.Request
	// searchForm is a POST _search's form as forwarded (writeguard.go),
	// nil for any other request: the response side reads what the search
	// selected on from the URL's query and it (redact.go cutQuery).
	searchForm url.Values
	// matchBody is a POST type-level $match's body as forwarded
	// (writeguard.go), nil for any other request: the cut-search rule
	// reads the Patient it gives as it reads a search's query
	// (cutsearch_match.go).
	matchBody []byte
	// origin: for a page the upstream names by a handle of its own
	// (HAPI's _getpages: cutQueryHandles), the search that began the
	// chain, as its path and query below the FHIR base with a POST
	// _search's form merged in ("/Condition?code=x"), from the page token
	// (paging.go pageOrigin); "" otherwise. Scopes, the cut-search rule and
	// includes read it instead of the handle's query, which holds none of
	// the search's parameters.
	origin string
	// ownInstance: the resource an instance's operation is called on is
	// the token's patient's (guardInstance), so its uninspected answer
	// (passthrough_content_types) may go to a token bound to that
	// patient's compartment (fhir.go nonJSON).
	ownInstance bool
	// instancePatients are the patients of the resource an instance's
	// operation, a vread or a history is about, as guardInstance read it
	// (none when it belongs to no patient): an operation's uninspected
	// answer is recorded under them (fhir.go recordUninspected).
	instancePatients []string
	// currentBundle are the labels the current version of the Bundle a
	// vread, history or operation is about carries as a whole
	// (guardStoredBundle), given to the entries of its older versions.
	currentBundle labels.Set
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
		Scopes: nonNil(c.Scopes), Purposes: nonNil(c.Purposes), FHIRUser: c.FHIRUser,
	}
	if c.BreakGlass != "" {
		pc.BreakGlass = &policy.BreakGlass{Reason: c.BreakGlass, IssuedAt: unixOrZero(c.IssuedAt), ExpiresAt: unixOrZero(c.Expiry)}
	}
	return pc
}

// ledgerEntry starts the ledger entry of the disclosures to patient. The
// recipient's name and address (42 CFR 2.24/2.25 accounting) come from the
// token's claims (authn.ClaimNames OrgName, OrgAddress: org_name and
// org_address by default), else from the entry of dir (consents.directory)
// that names the caller's organisation by reference or by one of its
// identifiers.
func (ex *exchange) ledgerEntry(patient, revision string, dir *consent.Directory) *audit.Entry {
	caller := audit.Party{Subject: ex.caller.Subject, Org: ex.caller.Org, Client: ex.caller.Client,
		Name: ex.caller.OrgName, Address: ex.caller.OrgAddress, PatientUser: ex.caller.PatientSide()} // PatientUser: the SIEM's patient_ids covers the subject, as logs and events leave it out (logSubject)
	if caller.Name == "" || caller.Address == "" {
		p := directoryParty(dir, ex.caller)
		caller.Name, caller.Address = cmp.Or(caller.Name, p.Name), cmp.Or(caller.Address, p.Address)
	}
	return &audit.Entry{
		Time:           ex.start,
		RequestID:      ex.requestID,
		Caller:         caller,
		Purposes:       ex.caller.Purposes,
		Patient:        patient,
		Interaction:    ex.req.Interaction,
		Query:          ex.query,
		PolicyRevision: revision,
	}
}

// directoryParty is the directory's name and address of the caller's
// organisation, found by its reference first, then by its identifiers.
func directoryParty(dir *consent.Directory, c authn.Caller) consent.Party {
	if dir == nil {
		return consent.Party{}
	}
	for _, form := range append([]string{c.Org}, c.OrgIdentifiers...) {
		if p, ok := dir.Party(form); ok && form != "" {
			return p
		}
	}
	return consent.Party{}
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
