package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// queueEntry is a break-the-glass disclosure and its reviews.
type queueEntry struct {
	audit.Entry
	Reviews []audit.Review `json:"reviews"`
}

// maxQueueScan bounds the break-the-glass entries one queue call reads
// while looking for unreviewed ones.
const maxQueueScan = 20_000

// breakGlassQueue lists break-the-glass disclosures in time order with
// their reviews: all of them, or only those not yet reviewed, paged.
func (h *Handler) breakGlassQueue(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct {
		Cursor     string
		Unreviewed bool
		Limit      int
	}
	if !decodeBody(w, body, &in) {
		return
	}
	if in.Limit <= 0 || in.Limit > 200 {
		in.Limit = 50
	}
	q := audit.Query{BreakGlass: true, Limit: in.Limit}
	if in.Cursor != "" {
		var err error
		if q.After, err = audit.ParseCursor(in.Cursor); err != nil {
			writeError(w, http.StatusBadRequest, "cursor is not one this call returned")
			return
		}
	}
	out, next, err := h.queuePage(r.Context(), q, in.Unreviewed)
	if err != nil {
		h.log.Error("console: break-the-glass queue", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "the ledger could not be read")
		return
	}
	// The queue names patients and what went out to whom in an emergency
	// (under 42 CFR Part 2, SUD records): the read is recorded before the
	// answer leaves, as GET /admin/audit records its own, and withheld if
	// it cannot be (QA round 37, helper H).
	read := audit.Entry{
		Time: h.cfg.Now().UTC(), RequestID: w.Header().Get("X-Request-Id"),
		Caller: audit.Party{Subject: s.subject, Org: s.org, Client: s.client,
			Name: s.orgName, Address: s.orgAddress},
		Purposes: []string{}, Interaction: audit.AuditRead,
		Query: "console/api/audit/breakglass?" + url.Values{"cursor": {in.Cursor},
			"unreviewed": {strconv.FormatBool(in.Unreviewed)}, "limit": {strconv.Itoa(in.Limit)}}.Encode(),
	}
	if err := h.cfg.Ledger.Append(r.Context(), read); err != nil {
		h.log.Error("console: auditor's read not recorded; answer withheld", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "the auditor's read could not be recorded; the answer was withheld")
		return
	}
	resp := map[string]any{"entries": out, "count": len(out)}
	if next != "" {
		resp["next"] = next
	}
	writeJSON(w, http.StatusOK, resp)
}

// queuePage reads pages of break-the-glass entries until limit entries
// (unreviewed ones when asked) are found, the index ends, or maxQueueScan
// entries were read; next continues after the last entry read.
//
// An entry's time is when its request arrived and it is committed when
// the response is ready, so an emergency disclosure committed after the
// previous page may sort behind its cursor, on no page of the pass. The
// cursor carries the ledger's head as of the page it follows: the
// entries committed since that sort behind it come first (late), and the
// walk after the cursor stops at the head as of this page, whose later
// entries the next page finds either way. A page may so hold more than
// limit entries.
func (h *Handler) queuePage(ctx context.Context, q audit.Query, unreviewed bool) ([]queueEntry, string, error) {
	head, _, err := h.cfg.Ledger.Head(ctx)
	if err != nil {
		return nil, "", err
	}
	out := []queueEntry{}
	if prev := q.After.Through(); !q.After.IsZero() && prev != 0 && head > prev {
		var late []audit.Entry
		lq := audit.Query{BreakGlass: true, Through: head, To: q.After.Time()} // To is exclusive: at the cursor's time, a later seq is after it
		err := audit.Scan(ctx, h.cfg.Ledger, lq, func(e audit.Entry) error {
			if e.Seq > prev {
				late = append(late, e)
			}
			return nil
		})
		if err != nil {
			return nil, "", err
		}
		if out, err = h.withReviews(ctx, out, late, unreviewed); err != nil {
			return nil, "", err
		}
	}
	q.Through = head
	limit, scanned := q.Limit+len(out), 0
	for scanned < maxQueueScan {
		page, err := h.cfg.Ledger.Find(ctx, q)
		if err != nil {
			return nil, "", err
		}
		scanned += len(page)
		seqs := make([]uint64, len(page))
		for i, e := range page {
			seqs[i] = e.Seq
		}
		reviews, err := h.cfg.Reviews.For(ctx, seqs)
		if err != nil {
			return nil, "", err
		}
		for i, e := range page {
			rs := reviewsOfHash(reviews[e.Seq], e.Hash)
			if unreviewed && len(rs) > 0 {
				continue
			}
			out = append(out, queueEntry{Entry: e, Reviews: nonNilReviews(rs)})
			if len(out) == limit {
				return out, cursorIfMore(page, i, q.Limit, head), nil
			}
		}
		if len(page) < q.Limit {
			return out, "", nil
		}
		q.After = audit.CursorAfter(page[len(page)-1])
	}
	return out, q.After.WithThrough(head).String(), nil
}

// withReviews appends entries to out with their reviews, only the
// unreviewed ones when asked.
func (h *Handler) withReviews(ctx context.Context, out []queueEntry, entries []audit.Entry, unreviewed bool) ([]queueEntry, error) {
	if len(entries) == 0 {
		return out, nil
	}
	seqs := make([]uint64, len(entries))
	for i, e := range entries {
		seqs[i] = e.Seq
	}
	reviews, err := h.cfg.Reviews.For(ctx, seqs)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		rs := reviewsOfHash(reviews[e.Seq], e.Hash)
		if unreviewed && len(rs) > 0 {
			continue
		}
		out = append(out, queueEntry{Entry: e, Reviews: nonNilReviews(rs)})
	}
	return out, nil
}

// cursorIfMore is the cursor after page[i], carrying head, unless page[i]
// ended a short (last) page.
func cursorIfMore(page []audit.Entry, i, limit int, head uint64) string {
	if i == len(page)-1 && len(page) < limit {
		return ""
	}
	return audit.CursorAfter(page[i]).WithThrough(head).String()
}

// reviewsOfHash keeps the reviews of the entry whose hash is hash: a review
// names the entry it attests by seq and hash, and one stored for another
// hash at that seq (a rewritten ledger, a review record copied in) attests
// something else, so it neither counts nor shows.
func reviewsOfHash(rs []audit.Review, hash string) []audit.Review {
	out := rs[:0:0]
	for _, r := range rs {
		if r.EntryHash == hash {
			out = append(out, r)
		}
	}
	return out
}

func nonNilReviews(rs []audit.Review) []audit.Review {
	if rs == nil {
		return []audit.Review{}
	}
	return rs
}

// review records that the signed-in auditor reviewed one break-the-glass
// entry, named by seq and hash (a changed entry cannot be marked).
func (h *Handler) review(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct {
		Seq  uint64
		Hash string
		Note string
	}
	if !decodeBody(w, body, &in) {
		return
	}
	hash, ok, err := h.cfg.Ledger.HashAt(r.Context(), in.Seq)
	switch {
	case err != nil:
		h.log.Error("console: review", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "the ledger could not be read")
		return
	case !ok || in.Seq == 0:
		writeError(w, http.StatusNotFound, "the ledger holds no such entry")
		return
	case hash != in.Hash:
		writeError(w, http.StatusConflict, "the entry's hash differs from the one given")
		return
	}
	// Only break-the-glass disclosures are reviewed: a review of another
	// entry would count in the queue's totals for nothing.
	es, err := h.cfg.Ledger.EntriesAfter(r.Context(), in.Seq-1, 1)
	switch {
	case err != nil:
		h.log.Error("console: review", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "the ledger could not be read")
		return
	case len(es) != 1 || es[0].Seq != in.Seq || es[0].BreakGlass == nil:
		writeError(w, http.StatusUnprocessableEntity, "the entry is not a break-the-glass disclosure; only those are reviewed")
		return
	case recipientIs(es[0].Caller, s):
		// Separation of duties: whoever received an emergency disclosure
		// does not attest that it was justified (HIPAA 164.308(a)(1)
		// information system activity review, 42 CFR 2.51).
		h.log.Warn("console: self-review refused", "reviewer_subject", s.subject, "reviewer_client", s.client, "seq", in.Seq)
		writeError(w, http.StatusForbidden, "separation of duties: this break-the-glass disclosure was made to you "+
			"(the reviewer's subject or client is its recipient's); another auditor must review it")
		return
	}
	if len(in.Note) > audit.MaxReviewNote {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the note is %d bytes; at most %d", len(in.Note), audit.MaxReviewNote))
		return
	}
	rev, err := h.cfg.Reviews.Add(r.Context(), audit.Review{EntrySeq: in.Seq, EntryHash: in.Hash, Reviewer: s.subject, Note: in.Note})
	if err != nil {
		// What the call sent was checked above (seq and hash against the
		// ledger, the note's length): what is left is the review store's
		// failure, not the auditor's request, and its text is the log's.
		h.log.Error("console: review not recorded", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "the review could not be recorded; nothing was stored")
		return
	}
	writeJSON(w, http.StatusOK, rev)
}

// recipientIs reports whether the signed-in reviewer is the recipient of a
// disclosure: the caller the ledger entry records, by subject and, when
// the entry records one, client. Any identity the two share counts (the
// reviewer's subject or client against the recipient's subject or
// client), so a system client that received the data cannot review it
// under another subject either.
func recipientIs(recipient audit.Party, s *session) bool {
	mine := []string{s.subject, s.client}
	for _, theirs := range []string{recipient.Subject, recipient.Client} {
		if theirs == "" {
			continue
		}
		for _, id := range mine {
			if id == theirs {
				return true
			}
		}
	}
	return false
}

// verifyStatus is the last chain verification, run in the background.
type verifyStatus struct {
	mu       sync.Mutex
	Running  bool       `json:"running"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Verified uint64     `json:"verified"`
	OK       *bool      `json:"ok,omitempty"`
	Broken   string     `json:"broken,omitempty"`
	BadSeq   uint64     `json:"broken_seq,omitempty"`
	Seconds  float64    `json:"seconds,omitempty"`
}

// verifyChain reports the last verification and the head; with
// {"run": true} it starts one unless one is running.
func (h *Handler) verifyChain(w http.ResponseWriter, r *http.Request, _ *session, body []byte) {
	var in struct{ Run bool }
	if !decodeBody(w, body, &in) {
		return
	}
	v := h.verify
	v.mu.Lock()
	if in.Run && !v.Running {
		now := h.cfg.Now()
		v.Running, v.Started, v.Finished, v.OK, v.Broken, v.BadSeq = true, &now, nil, nil, "", 0
		go h.runVerify()
	}
	snapshot := map[string]any{"verification": v.copy()}
	v.mu.Unlock()
	seq, hash, err := h.cfg.Ledger.Head(r.Context())
	if err == nil {
		snapshot["head"] = map[string]any{"seq": seq, "hash": hash}
	}
	writeJSON(w, http.StatusOK, snapshot)
}

// copy is the status without its lock; v.mu is held.
func (v *verifyStatus) copy() map[string]any {
	return map[string]any{
		"running": v.Running, "started": v.Started, "finished": v.Finished, "verified": v.Verified,
		"ok": v.OK, "broken": v.Broken, "broken_seq": v.BadSeq, "seconds": v.Seconds,
	}
}

// verifyLedger is Ledger.Verify in its own goroutine: a panic there (bbolt
// on a damaged page the ledger's reads did not catch) would end the whole
// process, so it is an error here.
func (h *Handler) verifyLedger() (n uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", audit.ErrDamaged, r)
		}
	}()
	return h.cfg.Ledger.Verify(context.Background())
}

// runVerify walks the chain and records the outcome.
func (h *Handler) runVerify() {
	start := time.Now()
	n, err := h.verifyLedger()
	v := h.verify
	v.mu.Lock()
	defer v.mu.Unlock()
	now := h.cfg.Now()
	ok := err == nil
	v.Running, v.Finished, v.Verified, v.OK, v.Seconds = false, &now, n, &ok, time.Since(start).Seconds()
	var be *audit.BrokenError
	switch {
	case errors.As(err, &be):
		v.Broken, v.BadSeq = be.Error(), be.Seq
	case errors.Is(err, audit.ErrDamaged):
		v.Broken = "the database file is damaged: restore it from a backup and verify again"
		h.log.Error("console: chain verification", "error", err.Error())
	case err != nil:
		v.Broken = "the ledger could not be read to the end"
		h.log.Error("console: chain verification", "error", err.Error())
	}
}
