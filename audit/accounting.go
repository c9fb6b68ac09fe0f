package audit

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// MaxAccounting caps the disclosures of one accounting, and
// MaxAccountingItems the resources they disclosed together; a longer
// history is asked for in time ranges. An accounting is held in memory
// (and its answer built there): about 130 bytes a resource for the
// disclosures and the entries behind them, several times that once
// decoded and rendered, so 100,000 searches of a hundred resources each
// would take gigabytes.
const (
	MaxAccounting      = 100_000
	MaxAccountingItems = 1_000_000
)

// ErrTooMany says an accounting would exceed MaxAccounting disclosures or
// MaxAccountingItems disclosed resources.
var ErrTooMany = fmt.Errorf("audit: more than %d disclosures or %d disclosed resources; narrow the time range", MaxAccounting, MaxAccountingItems)

// Recipient is who received a disclosure, as the accounting names them.
type Recipient struct {
	// Subject is the authenticated user or system (the token's sub).
	Subject string `json:"subject"`
	// Name is the recipient's name when the entry has one (the caller's
	// stated name, or the break-the-glass recipient), else Subject.
	Name string `json:"name"`
	// Organization is the caller's organisation (or break-the-glass
	// affiliation).
	Organization string `json:"organization"`
	// Address is the recipient's address when the token stated one; the
	// proxy knows no other.
	Address string `json:"address"`
	// Client is the OAuth client the request came through.
	Client string `json:"client"`
}

// Disclosure is one line of an accounting of disclosures (42 CFR 2.24,
// 45 CFR 164.528): the date, the recipient, a description of what was
// disclosed and the purpose.
type Disclosure struct {
	Date        time.Time   `json:"date"`
	Seq         uint64      `json:"seq"`
	RequestID   string      `json:"request_id"`
	Patient     string      `json:"patient"`
	Recipient   Recipient   `json:"recipient"`
	Purposes    []string    `json:"purposes"`
	Description string      `json:"description"`
	Disclosed   []Item      `json:"disclosed"`
	BreakGlass  *BreakGlass `json:"break_glass,omitempty"`
}

// Accounting returns the disclosures to anyone of patient's data in
// [from, to) (zero bounds open), oldest first: the entries that disclosed
// at least one resource (an entry that only withheld discloses nothing).
//
// It fails when the prune checkpoint is not to be relied on (see
// Checkpoint): the disclosures before it are then not known to be in the
// exports, and the accounting would read as though they were.
func (l *Ledger) Accounting(ctx context.Context, patient string, from, to time.Time) ([]Disclosure, []Entry, error) {
	if _, err := l.Checkpoint(ctx); err != nil {
		return nil, nil, err
	}
	return Accounting(ctx, l, patient, from, to)
}

// Accounting is Ledger.Accounting over any Finder; it also returns the
// entries behind the disclosures, for AuditEventBundle: without their
// withheld and redacted items and consents, which no accounting shows.
// More than MaxAccounting disclosures or MaxAccountingItems disclosed
// resources is ErrTooMany.
func Accounting(ctx context.Context, f Finder, patient string, from, to time.Time) ([]Disclosure, []Entry, error) {
	return accounting(ctx, f, patient, from, to, MaxAccountingItems)
}

// accounting is Accounting with at most maxItems disclosed resources. The
// entries it keeps share the disclosures' items and drop what no
// rendering of an accounting reads (withheld, redacted, consents).
func accounting(ctx context.Context, f Finder, patient string, from, to time.Time, maxItems int) ([]Disclosure, []Entry, error) {
	if patient == "" {
		return nil, nil, errors.New("audit: accounting: a patient is required")
	}
	var out []Disclosure
	var entries []Entry
	items := 0
	err := Scan(ctx, f, Query{Patient: patient, From: from, To: to}, func(e Entry) error {
		if len(e.Disclosed) == 0 {
			return nil
		}
		if items += len(e.Disclosed); len(out) == MaxAccounting || items > maxItems {
			return ErrTooMany
		}
		d := DisclosureOf(e)
		e.Disclosed, e.Withheld, e.Redacted, e.Consents = d.Disclosed, nil, nil, nil
		out = append(out, d)
		entries = append(entries, e)
		return nil
	})
	return out, entries, err
}

// DisclosureOf is the accounting line of e.
func DisclosureOf(e Entry) Disclosure {
	r := Recipient{Subject: e.Caller.Subject, Name: e.Caller.Name, Organization: e.Caller.Org, Address: e.Caller.Address, Client: e.Caller.Client}
	if bg := e.BreakGlass; bg != nil {
		r.Name = firstNonEmpty(r.Name, bg.Recipient)
		r.Organization = firstNonEmpty(r.Organization, bg.Affiliation)
	}
	r.Name = firstNonEmpty(r.Name, r.Subject)
	return Disclosure{
		Date: e.Time, Seq: e.Seq, RequestID: e.RequestID, Patient: e.Patient, Recipient: r,
		Purposes: nonNil(e.Purposes), Description: describe(e), Disclosed: canonicalItems(e.Disclosed), BreakGlass: e.BreakGlass,
	}
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// describe says in words what e disclosed: the interaction, how many
// resources of which types, which were redacted in part, their
// sensitivity labels and whether it was an emergency.
func describe(e Entry) string {
	counts := map[string]int{}
	var types, labels []string
	for _, it := range e.Disclosed {
		if counts[it.Type]++; counts[it.Type] == 1 {
			types = append(types, it.Type)
		}
		for _, l := range it.Labels {
			if _, code, _ := strings.Cut(l, "|"); code != "" && !slices.Contains(labels, code) {
				labels = append(labels, code)
			}
		}
	}
	slices.Sort(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%d %s", counts[t], t)
	}
	what := firstNonEmpty(e.Interaction, "request")
	if what == "simulate" { // "simulate" reads as though nothing went out
		what = "policy simulation (the data was shown to a policy author; only the decision was simulated)"
	}
	s := fmt.Sprintf("%s: disclosed %s", what, strings.Join(parts, ", "))
	if len(e.Redacted) > 0 {
		s += fmt.Sprintf(" (%d redacted in part)", len(e.Redacted))
	}
	if len(labels) > 0 {
		slices.Sort(labels)
		s += "; labels " + strings.Join(labels, ", ")
	}
	if e.BreakGlass != nil {
		s += "; emergency disclosure (break-the-glass): " + e.BreakGlass.Reason
	}
	return s
}

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{
	"date", "seq", "request_id", "patient", "recipient", "recipient_name", "recipient_organization",
	"recipient_address", "client", "purpose", "description", "disclosed", "break_glass_reason",
}

// WriteCSV writes disclosures as CSV (RFC 4180, via encoding/csv) with
// CSVHeader first. Lists are space separated; a cell that a spreadsheet
// would read as a formula (starting with = + - @ or a control character)
// is prefixed with a single quote.
func WriteCSV(w io.Writer, ds []Disclosure) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	for _, d := range ds {
		items := make([]string, len(d.Disclosed))
		for i, it := range d.Disclosed {
			items[i] = itemRef(it)
		}
		reason := ""
		if d.BreakGlass != nil {
			reason = d.BreakGlass.Reason
		}
		row := []string{
			d.Date.UTC().Format(time.RFC3339Nano), fmt.Sprint(d.Seq), d.RequestID, d.Patient,
			d.Recipient.Subject, d.Recipient.Name, d.Recipient.Organization, d.Recipient.Address, d.Recipient.Client,
			strings.Join(d.Purposes, " "), d.Description, strings.Join(items, " "), reason,
		}
		for i := range row {
			row[i] = defuseFormula(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// itemRef is Type/id, with /_history/version when known; a resource
// disclosed without an id (an operation's result) is its type and
// "(no id)", not the reference "Type/" that points nowhere.
func itemRef(it Item) string {
	if it.ID == "" {
		return it.Type + " (no id)"
	}
	s := it.Type + "/" + it.ID
	if it.Version != "" {
		s += "/_history/" + it.Version
	}
	return s
}

// defuseFormula prefixes a cell a spreadsheet would evaluate: one
// starting with = + - @, a tab, CR, LF or NUL (OWASP ASVS 1.2.10 names
// NUL; a token's claims may hold one, and JSON carries it).
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r\n\x00", rune(s[0])) {
		return "'" + s
	}
	return s
}
