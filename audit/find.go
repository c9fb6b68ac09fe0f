package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

const (
	// DefaultLimit is how many entries Find returns when Query.Limit is 0.
	DefaultLimit = 100
	// MaxLimit caps Query.Limit.
	MaxLimit = 1000
)

// Query selects entries for Find. Every field set must match.
type Query struct {
	// Patient selects one patient's entries ("Patient/<id>").
	Patient string
	// Recipient selects entries whose caller subject or organisation is
	// this value (e.g. "Organization/o1" or "Practitioner/dr1").
	Recipient string
	// Purpose selects entries stating this purpose of use (e.g. "TREAT").
	Purpose string
	// BreakGlass selects emergency (break-the-glass) disclosures only;
	// NotBreakGlass selects the others only.
	BreakGlass, NotBreakGlass bool
	// AuditReads selects the auditors' reads of the ledger only
	// (Interaction AuditRead); without it they are left out, so that
	// listing the ledger, page after page, is not lengthened by itself.
	AuditReads bool
	// From (inclusive) and To (exclusive) bound entry Time; zero is unbounded.
	From, To time.Time
	// After is a paging cursor: only entries after it are returned. The
	// zero Cursor starts at the beginning.
	After Cursor
	// Through bounds the entries by Seq (at most Through): a listing paged
	// from the ledger's head as of its first page ends, though reading it
	// appends entries (an auditor's read is one). 0 is no bound, unless
	// After carries one (Cursor.Through).
	Through uint64
	// Limit caps the number of entries returned: 0 means DefaultLimit, and
	// anything above MaxLimit means MaxLimit.
	Limit int
}

// Cursor is a position in the (time, seq) order of Find, and the Seq
// bound of the listing it continues (0: none).
type Cursor struct {
	t, seq, through uint64
}

// CursorAfter is the cursor that continues after e, with no bound.
func CursorAfter(e Entry) Cursor {
	return Cursor{t: timeKey(e.Time), seq: e.Seq}
}

// WithThrough is c carrying the listing's bound (Query.Through).
func (c Cursor) WithThrough(seq uint64) Cursor {
	c.through = seq
	return c
}

// Through is the bound c carries (0: none, a cursor of a release before
// the bound).
func (c Cursor) Through() uint64 { return c.through }

// Time is the entry time of the position c continues after.
func (c Cursor) Time() time.Time { return time.Unix(0, int64(c.t^(1<<63))).UTC() }

// IsZero reports whether c is the start.
func (c Cursor) IsZero() bool { return c.t == 0 && c.seq == 0 }

// String encodes c as an opaque URL-safe token: version 1 (time, seq)
// without a bound, as before it was carried; version 2 (time, seq,
// through) with one.
func (c Cursor) String() string {
	b := binary.BigEndian.AppendUint64([]byte{1}, c.t)
	b = binary.BigEndian.AppendUint64(b, c.seq)
	if c.through != 0 {
		b[0] = 2
		b = binary.BigEndian.AppendUint64(b, c.through)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes a token made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || !(len(b) == 17 && b[0] == 1 || len(b) == 25 && b[0] == 2) {
		return Cursor{}, errors.New("audit: not a ledger cursor")
	}
	c := Cursor{t: binary.BigEndian.Uint64(b[1:9]), seq: binary.BigEndian.Uint64(b[9:17])}
	if b[0] == 2 {
		c.through = binary.BigEndian.Uint64(b[17:])
	}
	if c.String() != s { // the decoder skips newlines; only the canonical form is a cursor (a version 2 one has a bound)
		return Cursor{}, errors.New("audit: not a ledger cursor")
	}
	return c, nil
}

// Find returns up to q.Limit entries matching q in the order of their Time,
// then Seq. To page, pass CursorAfter(the last entry) as the next query's
// After; fewer than the limit means there are no more. The query walks one
// index (patient, else recipient, else purpose, else break-glass, else all
// entries by time) from the cursor or From to To, and checks the other
// fields on each entry it reads.
func (l *Ledger) Find(ctx context.Context, q Query) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: finding entries: %w", err)
	}
	if err := l.IndexPending(ctx); err != nil {
		return nil, err
	}
	out, err := l.findAsStored(q)
	if err != nil {
		return nil, fmt.Errorf("audit: finding entries: %w", err)
	}
	return out, nil
}

// findAsStored is Find without indexing waiting entries first: what is
// indexed is found through the indexes, the rest through the tail.
func (l *Ledger) findAsStored(q Query) ([]Entry, error) {
	out := []Entry{}
	err := l.view(context.Background(), func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		out, err = find(b, q)
		return err
	})
	return out, err
}

// Finder finds entries; *Ledger is one.
type Finder interface {
	Find(ctx context.Context, q Query) ([]Entry, error)
}

// Scan calls fn for every entry matching q, in Find's order, reading
// up to MaxLimit entries per transaction (fewer when they are large: see
// scanPageItems); q.Limit is ignored. An error from fn stops the scan and
// is returned.
func (l *Ledger) Scan(ctx context.Context, q Query, fn func(Entry) error) error {
	return Scan(ctx, l, q, fn)
}

// A Scan page holds about scanPageItems resources (disclosed, withheld and
// redacted items): its first page reads scanFirstPage entries, and each
// next one as many as hold scanPageItems at the previous page's average,
// 1 to MaxLimit. A page of MaxLimit entries of searches of thousands of
// resources each was millions of items decoded at once, whatever the
// caller kept (an accounting, or ds4p audit query streaming them out).
const (
	scanPageItems = 100_000
	scanFirstPage = 100
)

// Scan calls fn for every entry f finds for q, page by page.
func Scan(ctx context.Context, f Finder, q Query, fn func(Entry) error) error {
	q.Limit = scanFirstPage
	for {
		page, err := f.Find(ctx, q)
		if err != nil {
			return err
		}
		items := 0
		for _, e := range page {
			items += len(e.Disclosed) + len(e.Withheld) + len(e.Redacted)
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) != q.Limit { // fewer: the last page; more: a Finder that ignores Limit gave everything
			return nil
		}
		q.After = CursorAfter(page[len(page)-1])
		q.Limit = MaxLimit
		if items > 0 {
			q.Limit = max(1, min(MaxLimit, scanPageItems*len(page)/items))
		}
	}
}

// find walks the driving index of q from its start, and merges in the
// entries no index holds yet (deferred.go).
func find(b buckets, q Query) ([]Entry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if q.Through == 0 {
		q.Through = q.After.through
	}
	ix, value := driver(q)
	prefix := ix.prefix(b.c, value)
	lo, hi := timeBounds(q.From, q.To)
	start := ix.key(b.c, value, lo, 0)
	if !q.After.IsZero() && q.After.t >= lo {
		if q.After.seq == math.MaxUint64 {
			return []Entry{}, nil
		}
		start = ix.key(b.c, value, q.After.t, q.After.seq+1)
	}
	out := []Entry{}
	bk, err := b.ix(ix)
	if err != nil {
		return nil, err
	}
	c := bk.Cursor()
	for k, _ := c.Seek(start); k != nil && len(out) < limit; k, _ = c.Next() {
		if !bytes.HasPrefix(k, prefix) {
			break
		}
		if len(k) != len(prefix)+16 {
			// Another value's key never starts with this one's prefix
			// (value|0x00, or its HMAC) and the unkeyed indexes hold only
			// time|seq: a key that does is malformed. Ending the walk
			// there answered a short page as the whole answer. (The key
			// is not shown: a plaintext index key holds a patient id.)
			return nil, fmt.Errorf("a malformed %s index key (ds4p audit verify reports where the ledger was altered)", ix.name)
		}
		t, seq := keyPosition(k)
		if t >= hi {
			break
		}
		if q.Through != 0 && seq > q.Through { // appended after the listing began
			continue
		}
		e, err := b.entryAt(seq)
		if err != nil {
			return nil, fmt.Errorf("reading seq %d: %w", seq, err)
		}
		if q.matches(&e) {
			out = append(out, e)
		}
	}
	tail, err := b.tailEntries()
	if err != nil {
		return nil, fmt.Errorf("reading the entries not indexed yet: %w", err)
	}
	return mergeTail(out, tail, q, limit), nil
}

// driver picks the index a query walks and the value it walks.
func driver(q Query) (*index, string) {
	switch {
	case q.Patient != "":
		return byPatient, q.Patient
	case q.Recipient != "":
		return byRecipient, q.Recipient
	case q.Purpose != "":
		return byPurpose, q.Purpose
	case q.BreakGlass:
		return byBreakGlass, ""
	}
	return byTime, ""
}

// AuditRead is the interaction of an auditor's read of the ledger (the
// proxy's GET /admin/audit and /admin/audit/accounting): the auditor is the
// caller, Patient the patient filter (none: every patient), Query the
// request; it discloses no resource, so no accounting lists it.
const AuditRead = "audit-read"

// matches checks every field of q against e.
func (q Query) matches(e *Entry) bool {
	switch {
	case q.Patient != "" && e.Patient != q.Patient:
		return false
	case q.Recipient != "" && e.Caller.Subject != q.Recipient && e.Caller.Org != q.Recipient:
		return false
	case q.Purpose != "" && !slices.Contains(e.Purposes, q.Purpose):
		return false
	case q.BreakGlass && e.BreakGlass == nil:
		return false
	case q.NotBreakGlass && e.BreakGlass != nil:
		return false
	case q.AuditReads != (e.Interaction == AuditRead):
		return false
	case q.Through != 0 && e.Seq > q.Through:
		return false
	}
	return inRange(e.Time, q.From, q.To)
}

// inRange reports whether t lies in [from, to), zero bounds being open.
func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// decodeEntry decodes a stored entry; the result shares no memory with v.
func decodeEntry(v []byte) (Entry, error) {
	if v == nil {
		return Entry{}, fmt.Errorf("entry missing")
	}
	if e, ok := decodeFast(v); ok { // decode.go
		return e, nil
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// PatientRef reads a patient the way auditors type one, "Patient/ID" or the
// bare ID, and returns "Patient/ID", the form entries are indexed by.
// Anything else (another resource type, an empty or malformed id, a URL)
// is an error: searched for as given it would match nothing, and an empty
// accounting of disclosures reads as "never disclosed".
func PatientRef(s string) (string, error) {
	id := strings.TrimPrefix(s, "Patient/")
	if !validID(id) {
		return "", fmt.Errorf("patient %q is not a patient reference: give Patient/ID or the id (1 to 64 letters, digits, '-' and '.')", s)
	}
	return "Patient/" + id, nil
}

// validID reports whether id is a FHIR R4 id: [A-Za-z0-9\-\.]{1,64}.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
