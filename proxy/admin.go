package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/gin-gonic/gin"
)

// auditParams are the query parameters GET /admin/audit accepts.
var auditParams = map[string]bool{
	"patient": true, "recipient": true, "purpose": true, "break_glass": true,
	"from": true, "to": true, "limit": true, "_count": true, "cursor": true,
	"audit_reads": true, "format": true,
}

// findAudit lists ledger entries in time order, filtered and paged:
//
//	GET /admin/audit?[patient=Patient/x][&recipient=Organization/o|Practitioner/p]
//	    [&purpose=TREAT][&break_glass=true|false][&audit_reads=true][&from=T][&to=T][&limit=N][&cursor=C]
//	    [&format=json|fhir]
//
// Every filter given must match; from (inclusive) and to (exclusive) are
// RFC 3339 times or YYYY-MM-DD dates (UTC midnight); limit (alias _count) is
// 1..1000, default 100. The answer is {"entries": [...], "count": N,
// "next": C} where next, present when the page is full or holds
// maxAuditPageItems resources, is the opaque cursor of the following page
// (which may be empty), bounded at the ledger's head as of the first page
// (listingBound); format=fhir answers the page as a Bundle of BALP
// AuditEvents instead (writeAuditBundle). Unknown or malformed parameters
// are a 400 OperationOutcome. Query values are never logged.
func (s *Server) findAudit(c *gin.Context) {
	v, err := queryValues(c)
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	q, err := parseAuditQuery(v)
	format := v.Get("format")
	if err == nil && format != "" && format != "json" && format != "fhir" {
		err = errors.New("format must be json or fhir")
	}
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	s.Flush() // what was answered before this query is in it
	if q.Through, err = s.listingBound(c.Request.Context(), q.After); err != nil {
		s.ledgerReadFailed(c, err)
		return
	}
	entries, more, err := s.auditPage(c.Request.Context(), q)
	if err != nil {
		s.ledgerReadFailed(c, err)
		return
	}
	// A listing reaching back before the prune checkpoint says so, as the
	// accounting does: a patient's page read as their whole history.
	pruned, err := s.prunedThrough(c.Request.Context(), q.From)
	var ce *audit.CheckpointError
	untrusted := ""
	if errors.As(err, &ce) { // not relied on, but the entries before it are gone all the same
		pruned, err = nil, nil
		if cp := ce.Checkpoint; cp.Seq != 0 && (q.From.IsZero() || !q.From.After(cp.Time)) {
			pruned, untrusted = &cp, ce.Err.Error()
		}
	}
	if err != nil {
		s.ledgerReadFailed(c, err)
		return
	}
	if !s.recordAuditRead(c, q.Patient) {
		return
	}
	if pruned != nil {
		c.Header("X-DS4P-Pruned-Through", pruned.Time.UTC().Format(time.RFC3339Nano))
	}
	next := ""
	if more {
		next = audit.CursorAfter(entries[len(entries)-1]).WithThrough(q.Through).String()
	}
	if format == "fhir" { // the page as IHE BALP AuditEvents, next as the Bundle's link
		writeAuditBundle(c, entries, next)
		return
	}
	body := gin.H{"entries": entries, "count": len(entries)}
	if q.Patient != "" {
		body["patient"] = q.Patient
	}
	if next != "" {
		body["next"] = next
	}
	switch {
	case pruned != nil && untrusted != "":
		// Not relied on (pruned before the minimum retention ended, or
		// without the storage key's MAC): its time and seq are what the
		// database says, and its export name is named by no one who
		// checked a file (QA round 42, helper I), so the note says so, as
		// the accounting refuses it.
		body["pruned"] = gin.H{"through": pruned.Time, "through_seq": pruned.Seq, "relied_on": false, "why": untrusted,
			"note": "entries up to this time are gone from the ledger, but the prune checkpoint is not relied on: verify the ledger against the prune exports"}
	case pruned != nil:
		body["pruned"] = gin.H{"through": pruned.Time, "through_seq": pruned.Seq, "export": pruned.Export, "relied_on": true,
			"note": "entries up to this time were pruned from the ledger into export files: they are in those files, not in these pages"}
	}
	c.JSON(http.StatusOK, body)
}

// writeAuditBundle answers a page of GET /admin/audit?format=fhir: a
// Bundle (collection) of the entries as IHE BALP AuditEvents (an auditor's
// read as a BALP Query), the following page as its next link (the same
// request, from the server's root, with the cursor).
func writeAuditBundle(c *gin.Context, entries []audit.Entry, next string) {
	b := audit.AuditEventBundle(entries, time.Now())
	if next != "" {
		v := c.Request.URL.Query()
		v.Set("cursor", next)
		b.Link = []audit.BundleLink{{Relation: "next", URL: c.Request.URL.Path + "?" + v.Encode()}}
	}
	body, err := json.Marshal(b)
	if err != nil {
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the page could not be rendered")
		return
	}
	c.Data(http.StatusOK, "application/fhir+json", body)
}

// listingBound is the Seq bound of a listing: the one its cursor carries,
// else the ledger's head now (its first page, or a cursor of a release
// before the bound). Each read of the listing appends an entry of its own
// (recordAuditRead), which the next page of audit_reads=true found: paged
// by limit=1 it never ended. Bounded, the pages list the ledger as it was
// at the first one; 0 (a ledger that keeps no head) is no bound.
func (s *Server) listingBound(ctx context.Context, after audit.Cursor) (uint64, error) {
	if n := after.Through(); n != 0 {
		return n, nil
	}
	l, ok := s.ledger.(interface {
		Head(context.Context) (uint64, string, error)
	})
	if !ok {
		return 0, nil
	}
	seq, _, err := l.Head(ctx)
	return seq, err
}

// The ledger page GET /admin/audit answers is read auditPageChunk entries
// at a time and ends early, with a next cursor, once it holds
// maxAuditPageItems resources (disclosed, withheld and redacted items): a
// page of 1,000 entries of searches of thousands of resources each was
// millions of items decoded and rendered in one answer.
const (
	auditPageChunk    = 100
	maxAuditPageItems = 100_000
)

// auditPage reads up to q.Limit entries for q, fewer when they are large;
// more reports whether a following page may hold entries.
func (s *Server) auditPage(ctx context.Context, q audit.Query) (entries []audit.Entry, more bool, err error) {
	want, items := q.Limit, 0
	entries = []audit.Entry{}
	for {
		q.Limit = min(want-len(entries), auditPageChunk)
		page, err := s.ledger.Find(ctx, q)
		if err != nil {
			return nil, false, err
		}
		entries = append(entries, page...)
		for _, e := range page {
			items += len(e.Disclosed) + len(e.Withheld) + len(e.Redacted)
		}
		switch {
		case len(page) != q.Limit: // the last page (or a ledger that ignores Limit: all of it)
			return entries, false, nil
		case len(entries) >= want, items >= maxAuditPageItems:
			return entries, true, nil
		}
		q.After = audit.CursorAfter(page[len(page)-1])
	}
}

// queryValues reads the request's query string, refusing one holding a
// pair it cannot read (a bad %-escape, a ';' separator): URL.Query() drops
// such a pair, and the filter or bound it carried was not applied
// (?patient=Patient/p1%zz answered every patient's entries, an
// accounting's to=2026-03-01%2 no end), as an empty one was before QA
// round 19 refused it.
func queryValues(c *gin.Context) (url.Values, error) {
	v, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return nil, errors.New("the query string holds a parameter that cannot be read (a malformed %-escape, or ';' used as a separator): nothing was filtered by it")
	}
	return v, nil
}

// parseAuditQuery reads and checks the parameters of GET /admin/audit.
func parseAuditQuery(v url.Values) (audit.Query, error) {
	q := audit.Query{Patient: v.Get("patient"), Recipient: v.Get("recipient"), Purpose: v.Get("purpose"), Limit: audit.DefaultLimit}
	if err := onlyParams(v, auditParams); err != nil {
		return q, err
	}
	for _, name := range []string{"patient", "recipient", "purpose"} {
		// An empty filter read as no filter: ?patient= answered every
		// patient's entries to an auditor who meant one.
		if v.Has(name) && v.Get(name) == "" {
			return q, fmt.Errorf("parameter %q is empty: give a value, or leave it out for no filter", name)
		}
	}
	// Read as the proxy reads a token's purpose before it records it:
	// T-TREAT or ...v3-ActReason|TREAT searched as written matched nothing,
	// a false "never disclosed for treatment" (QA round 28, area C).
	if q.Purpose != "" {
		if q.Purpose = authn.NormalizePurpose(q.Purpose); q.Purpose == "" {
			return q, errors.New(`parameter "purpose" names no purpose of use`)
		}
	}
	var err error
	if q.Patient != "" {
		if q.Patient, err = audit.PatientRef(q.Patient); err != nil {
			return q, err
		}
	}
	if v.Has("break_glass") { // given empty: no filter would answer both kinds
		if q.BreakGlass, err = strconv.ParseBool(v.Get("break_glass")); err != nil {
			return q, errors.New("break_glass must be true or false")
		}
		q.NotBreakGlass = !q.BreakGlass // false: only the entries without one
	}
	if v.Has("audit_reads") { // the auditors' reads of the ledger, not the disclosures
		if q.AuditReads, err = strconv.ParseBool(v.Get("audit_reads")); err != nil {
			return q, errors.New("audit_reads must be true or false")
		}
	}
	if v.Get("limit") != "" && v.Get("_count") != "" {
		return q, errors.New("give limit or its alias _count, not both")
	}
	for _, name := range []string{"limit", "_count"} {
		if n := v.Get(name); n != "" {
			if q.Limit, err = strconv.Atoi(n); err != nil || q.Limit < 1 || q.Limit > audit.MaxLimit {
				return q, fmt.Errorf("%s must be between 1 and %d", name, audit.MaxLimit)
			}
		}
	}
	if cur := v.Get("cursor"); cur != "" {
		if q.After, err = audit.ParseCursor(cur); err != nil {
			return q, errors.New("cursor is not a cursor this endpoint returned")
		}
	}
	q.From, q.To, err = timeRangeOf(v)
	return q, err
}

// onlyParams refuses parameters not in known, and repeated ones.
func onlyParams(v url.Values, known map[string]bool) error {
	for name, values := range v {
		if !known[name] {
			return fmt.Errorf("unknown parameter %q", name)
		}
		if len(values) > 1 {
			return fmt.Errorf("parameter %q given more than once", name)
		}
	}
	return nil
}

// accountingParams are the query parameters of the accounting.
var accountingParams = map[string]bool{"patient": true, "from": true, "to": true, "format": true}

// accounting answers the accounting of disclosures of one patient
// (42 CFR 2.24, 45 CFR 164.528):
//
//	GET /admin/audit/accounting?patient=Patient/x[&from=T][&to=T][&format=json|csv|fhir]
//
// json (default) is {"patient", "from", "to", "disclosures": [audit.Disclosure...]};
// csv is text/csv with audit.CSVHeader; fhir is a Bundle (collection) of
// IHE BALP AuditEvents. Only entries that disclosed something count.
func (s *Server) accounting(c *gin.Context) {
	v, err := queryValues(c)
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	patient, format := v.Get("patient"), v.Get("format")
	from, to, err := timeRangeOf(v)
	if perr := onlyParams(v, accountingParams); perr != nil {
		err = perr
	}
	switch {
	case err != nil:
	case patient == "":
		err = errors.New("the patient parameter is required, e.g. ?patient=Patient/123")
	case format != "" && format != "json" && format != "csv" && format != "fhir":
		err = errors.New("format must be json, csv or fhir")
	default:
		patient, err = audit.PatientRef(patient)
	}
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	s.Flush()
	var ds []audit.Disclosure
	var entries []audit.Entry
	err = nil
	if cp, ok := s.ledger.(checkpointed); ok { // a real ledger: its prune checkpoint must hold
		_, err = cp.Checkpoint(c.Request.Context())
	}
	if err == nil {
		ds, entries, err = audit.Accounting(c.Request.Context(), s.ledger, patient, from, to)
	}
	if errors.Is(err, audit.ErrTooMany) {
		writeOutcome(c.Writer, http.StatusBadRequest, "too-costly", err.Error())
		return
	}
	var ce *audit.CheckpointError
	if errors.As(err, &ce) {
		// Entries were pruned before the minimum retention, or the prune
		// checkpoint cannot be authenticated: the disclosures before it
		// are not known to be complete, so no accounting is given as if
		// they were. The auditor is told why (seqs and times, no PHI).
		s.log.Error("accounting refused: the prune checkpoint is not relied on", "request_id", c.GetString(requestIDKey), "error", err.Error())
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "no complete accounting can be given: "+err.Error())
		return
	}
	if err != nil {
		s.ledgerReadFailed(c, err)
		return
	}
	if !s.recordAuditRead(c, patient) {
		return
	}
	s.writeAccounting(c, format, patient, from, to, ds, entries)
}

// recordAuditRead records, durably, before the answer leaves, that the
// auditor read the ledger: the answer names patients and their
// disclosures (under 42 CFR Part 2, that they are in SUD treatment), and a
// second auditor reviews who looked (GET /admin/audit?audit_reads=true,
// with the other filters; the listing leaves them out otherwise). The entry, in the hash chain as any other, has
// the auditor as caller, the patient filter (none: every patient) and the
// path and query, and discloses no resource: an auditor's review is the
// covered entity's own use for its compliance (health care operations,
// HIPAA 164.501; 164.528(a)(1)(i) and 42 CFR 2.25 exclude it), not a
// disclosure to a third party, so no accounting lists it (audit.Accounting
// takes only entries that disclosed), and it counts for no bulk-access
// alert. If it cannot be recorded, the answer is withheld (QA round 37,
// area C).
func (s *Server) recordAuditRead(c *gin.Context, patient string) bool {
	caller := callerOf(c)
	e := audit.Entry{
		Time:      time.Now().UTC(),
		RequestID: c.GetString(requestIDKey),
		Caller: audit.Party{Subject: caller.Subject, Org: caller.Org, Client: caller.Client,
			Name: caller.OrgName, Address: caller.OrgAddress},
		Purposes:       []string{},
		Patient:        patient,
		Interaction:    audit.AuditRead,
		Query:          strings.TrimPrefix(c.Request.URL.Path, "/"),
		PolicyRevision: s.decider.Revision(),
	}
	if q := c.Request.URL.RawQuery; q != "" {
		e.Query += "?" + q
	}
	if err := s.ledger.Append(c.Request.Context(), e); err != nil {
		s.log.Error("auditor's read not recorded; answer withheld", "request_id", e.RequestID, "cause", errString(err))
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the auditor's read could not be recorded; the answer was withheld")
		return false
	}
	return true
}

// checkpointed is a ledger with a prune checkpoint (audit.Ledger): the
// accounting relies on it only when it holds (authenticated, not younger
// than the minimum retention).
type checkpointed interface {
	Checkpoint(ctx context.Context) (audit.Checkpoint, error)
}

// writeAccounting renders the accounting in the format asked for.
func (s *Server) writeAccounting(c *gin.Context, format, patient string, from, to time.Time, ds []audit.Disclosure, entries []audit.Entry) {
	// Entries pruned into export files are not in the ledger: an accounting
	// reaching back before the prune checkpoint says so, rather than
	// reading as "nothing was disclosed then".
	pruned, err := s.prunedThrough(c.Request.Context(), from)
	if err != nil {
		s.ledgerReadFailed(c, err)
		return
	}
	if pruned != nil {
		c.Header("X-DS4P-Pruned-Through", pruned.Time.UTC().Format(time.RFC3339Nano))
	}
	switch format {
	case "csv":
		var buf bytes.Buffer
		if err := audit.WriteCSV(&buf, ds); err != nil {
			s.ledgerReadFailed(c, err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="accounting.csv"`)
		c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	case "fhir":
		body, err := json.Marshal(audit.AuditEventBundle(entries, time.Now()))
		if err != nil {
			s.ledgerReadFailed(c, err)
			return
		}
		c.Data(http.StatusOK, "application/fhir+json", body)
	default:
		if ds == nil {
			ds = []audit.Disclosure{}
		}
		body := gin.H{"patient": patient, "from": timeOrNil(from), "to": timeOrNil(to), "disclosures": ds}
		if pruned != nil {
			body["pruned"] = gin.H{"through": pruned.Time, "through_seq": pruned.Seq, "export": pruned.Export,
				"note": "entries up to this time were pruned from the ledger into export files: disclosures before it are in those files, not here"}
		}
		c.JSON(http.StatusOK, body)
	}
}

// prunedThrough returns the ledger's prune checkpoint when entries were
// pruned at or after from (an accounting from then is incomplete), nil
// otherwise or when the ledger keeps no checkpoint.
func (s *Server) prunedThrough(ctx context.Context, from time.Time) (*audit.Checkpoint, error) {
	l, ok := s.ledger.(interface {
		Checkpoint(context.Context) (audit.Checkpoint, error)
	})
	if !ok {
		return nil, nil
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil || cp.Seq == 0 || (!from.IsZero() && from.After(cp.Time)) {
		return nil, err
	}
	return &cp, nil
}

// timeOrNil is t, or nil (JSON null) when zero.
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// ledgerReadFailed answers 500 and logs no query value.
func (s *Server) ledgerReadFailed(c *gin.Context, err error) {
	s.log.Error("ledger query failed", "request_id", c.GetString(requestIDKey), "error", err.Error())
	writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the ledger could not be read")
}

// timeRangeOf reads v's from and to. One given empty is refused, as an
// empty filter is: read as no bound, an auditor's ?from=$START with the
// variable unset answered every entry since the ledger began.
func timeRangeOf(v url.Values) (time.Time, time.Time, error) {
	for _, name := range []string{"from", "to"} {
		if v.Has(name) && v.Get(name) == "" {
			return time.Time{}, time.Time{}, fmt.Errorf("parameter %q is empty: give a time, or leave it out for no bound", name)
		}
	}
	return timeRange(v.Get("from"), v.Get("to"))
}

// timeRange parses from and to as RFC 3339 times or dates; to must be
// after from. An empty range (to equal to from, to exclusive) would match
// nothing and answer an empty page or accounting, which reads as "never
// disclosed", as ds4p audit refuses it too.
func timeRange(from, to string) (time.Time, time.Time, error) {
	f, err := parseTime(from)
	if err != nil {
		return f, time.Time{}, errors.New("from must be an RFC 3339 time or a YYYY-MM-DD date")
	}
	t, err := parseTime(to)
	if err != nil {
		return f, t, errors.New("to must be an RFC 3339 time or a YYYY-MM-DD date")
	}
	switch {
	case to != "" && t.IsZero():
		// 0001-01-01T00:00:00Z is Go's zero time, which stands for no
		// bound: to=0001-01-01 answered every entry, not none.
		return f, t, errors.New("to is 0001-01-01T00:00:00Z, before every entry: nothing could match (leave to out for no end)")
	case f.IsZero() || t.IsZero():
	case t.Before(f):
		return f, t, errors.New("to must not be before from")
	case t.Equal(f):
		return f, t, errors.New("to equals from: nothing could match, as to is exclusive (for one day, give to the next day)")
	}
	return f, t, nil
}

// parseTime reads an RFC 3339 time or a date; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	// A query string decodes + as a space, so an offset typed as is
	// (from=2026-03-01T09:00:00+05:00, not %2B) arrives as "... 05:00".
	// No RFC 3339 time has a space: it can only be that +.
	if before, after, ok := strings.Cut(s, " "); ok && strings.Contains(before, "T") {
		if t, err := time.Parse(time.RFC3339Nano, before+"+"+after); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.DateOnly, s)
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "pass"})
}

// readyz checks that the upstream answers, the stores are open and a policy
// is loaded. A check whose error says Degraded (a rejected policy change,
// the last good revision serving) is "warn": reported, with the overall
// status "warn", but the proxy stays ready (200). One whose error says
// Passing is no problem, only detail (the label rules revision in use).
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	ok, warn := true, false
	report := func(name string, err error) {
		var d interface{ Degraded() bool }
		var p interface{ Passing() bool }
		switch {
		case err != nil && errors.As(err, &p) && p.Passing(): // detail, not a problem (a label rules revision)
			checks[name] = gin.H{"status": "pass", "detail": errString(err)}
		case err != nil && errors.As(err, &d) && d.Degraded():
			warn = true
			checks[name] = gin.H{"status": "warn", "detail": errString(err)}
		case err != nil:
			ok = false
			checks[name] = gin.H{"status": "fail", "detail": errString(err)}
		default:
			checks[name] = gin.H{"status": "pass"}
		}
	}
	report("upstream", s.pingUpstream(ctx))
	if s.decider.Revision() == "" {
		report("policy", errors.New("no policy loaded"))
	} else {
		report("policy", nil)
	}
	for name, check := range s.checks {
		report(name, check(ctx))
	}
	if sc, ok := s.consents.(*sourcedConsents); ok && sc.mirror != nil {
		report("consent_sync", sc.mirror.readyErr()) // consents.upstream: sync
	}
	status, overall := http.StatusOK, "pass"
	switch {
	case !ok:
		status, overall = http.StatusServiceUnavailable, "fail"
	case warn:
		overall = "warn"
	}
	c.JSON(status, gin.H{"status": overall, "policy_revision": s.decider.Revision(), "checks": checks})
}

func (s *Server) pingUpstream(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upBase+"/metadata", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode >= 500:
		return errors.New("upstream answered " + strconv.Itoa(resp.StatusCode))
	case s.opts.UpstreamCredentials != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		// ds4p's own credentials are refused: every request will fail.
		return errors.New("the upstream refuses ds4p's credentials (" + strconv.Itoa(resp.StatusCode) + ")")
	}
	return nil
}

// auditRoutes registers the ledger queries for auditors.
func (s *Server) auditRoutes(admin *gin.RouterGroup) {
	admin.GET("/audit", s.findAudit)
	admin.GET("/audit/accounting", s.accounting)
}

// refusePatientSide refuses a patient's token (authn.Caller.PatientSide: a
// patient user, or a token bound to a patient that names no clinician) on
// every /admin route, whatever scopes it carries: the FHIR API binds such
// a token to the patient's compartment, while the admin routes act on
// every patient: the ledger names them all (an identity provider that let
// a patient app ask for ds4p/auditor handed it everyone's disclosures),
// consents are written for any patient, alerts name other callers and the
// simulator reads any patient's consents. A patient's accounting is given
// to them by an auditor.
// refuseUnreadableQuery refuses an administration request whose query
// string holds a pair that cannot be read: every route's filters
// (/admin/Consent?patient=, the audit's, the alerts') would otherwise drop
// it with URL.Query() and answer unfiltered (QA round 41, area C).
func refuseUnreadableQuery(c *gin.Context) {
	if _, err := queryValues(c); err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		c.Abort()
		return
	}
	c.Next()
}

func refusePatientSide(c *gin.Context) {
	if callerOf(c).PatientSide() {
		writeOutcome(c.Writer, http.StatusForbidden, "forbidden", "a patient's token cannot use the administration API: an auditor gives a patient their accounting of disclosures")
		c.Abort()
		return
	}
	c.Next()
}
