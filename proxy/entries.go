package proxy

import (
	"errors"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Bundle entries beyond their resource: search.mode, the response of a
// batch/transaction-response or history entry (status, outcome), and the
// request of a history entry.

// Indexes of entryNode.parts.
const (
	partSearch = iota
	partResponse
	partRequest
)

var noParts = [3]span{{-1, -1}, {-1, -1}, {-1, -1}}

func partIndex(name string) int {
	switch name {
	case "search":
		return partSearch
	case "response":
		return partResponse
	}
	return partRequest
}

// entryParts reads, once, what the pipeline uses of an entry's search,
// response and request members. When a part cannot be read the entry
// counts as not a match and as naming no resource, and writing it fails
// (partsErr), which withholds the response.
func (r *run) entryParts(e *entryNode) *entryNode {
	if e.parsed {
		return e
	}
	e.parsed = true
	names := [3]string{"search", "response", "request"}
	for k, p := range e.parts {
		if p.start >= 0 {
			if err := r.entryPart(e, names[k], p.start); err != nil {
				e.notMatch, e.partsErr = true, err
				if e.ans != nil {
					e.ans.ref = ""
				}
			}
		}
	}
	return e
}

// entryPart reads the member name ("search", "response" or "request") of
// an entry, whose value starts at vs. One written as an array of one
// object (invalid FHIR JSON, but a server may send it, and other readers
// take it as that object) is read as the object: skipped, a batch
// response.outcome so written kept its free text ("row for F11.20
// skipped") for any caller, and a 404 so written did not answer as a
// withheld entry does (QA round 34, area A). Any other value that is not
// an object cannot be read, and the entry fails as above.
func (r *run) entryPart(e *entryNode, name string, vs int) error {
	b := r.body
	vs, err := partObject(b, vs)
	if err != nil {
		return err
	}
	_, err = fjson.ObjectScan(b, vs, func(key []byte, ks int) (int, error) {
		ke, err := fjson.SkipValue(b, ks)
		if err != nil {
			return 0, err
		}
		switch k := keyName(key); {
		case name == "search" && k == "mode":
			raw, _ := fjson.RawString(b, ks, ke)
			e.notMatch = !fjson.KeyIs(raw, "match")
		case name == "response" && k == "status":
			r.answerOf(e).status, _ = fjson.StringValue(b, ks, ke)
		case name == "response" && k == "outcome":
			// Its free text is cut (outcomeEdits), the rest passes: only
			// an OperationOutcome is read so. Bundle.entry.response.outcome
			// is typed Resource, and a Condition its EHR labelled R stored
			// there went to org-b whole, its code too (QA round 38, area A).
			if b[ks] != '{' {
				return 0, errOutcomeNotOutcome
			}
			if rt, err := r.resourceType(ks); err != nil || rt != "OperationOutcome" {
				return 0, errOutcomeNotOutcome
			}
			r.answerOf(e).outcome = span{ks, ke}
		case name == "response" && k == "location":
			a := r.answerOf(e)
			a.location, _ = fjson.StringValue(b, ks, ke)
			a.locationAt = span{ks, ke}
		case name == "response" && k == "etag":
			r.answerOf(e).etag, _ = fjson.StringValue(b, ks, ke)
		case name == "response" && k == "lastModified":
			r.answerOf(e).lastModified, _ = fjson.StringValue(b, ks, ke)
		case name == "request" && k == "url":
			u, _ := fjson.StringValue(b, ks, ke)
			r.answerOf(e).ref = refOf(u)
		}
		return ke, nil
	})
	return err
}

var (
	errEntryPart         = errors.New("an entry's search, response or request is not an object")
	errOutcomeNotOutcome = errors.New("an entry's response.outcome is not an OperationOutcome")
)

// partObject is where the object of an entry part whose value starts at
// vs starts: the value itself, or the element of an array of one
// (entryPart); errEntryPart for any other value.
func partObject(b []byte, vs int) (int, error) {
	if b[vs] == '[' {
		n := 0
		err := fjson.ArrayEach(b, vs, func(s, _ int) error {
			if n++; n == 1 {
				vs = s
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if n != 1 {
			return 0, errEntryPart
		}
	}
	if b[vs] != '{' {
		return 0, errEntryPart
	}
	return vs, nil
}

// refOf returns the "Type/id" a request URL names, or "".
func refOf(u string) string {
	u, _, _ = strings.Cut(u, "?")
	segs := strings.Split(u, "/")
	for i := 0; i+1 < len(segs); i++ {
		if isType(segs[i]) && segs[i+1] != "" && segs[i+1][0] != '_' && segs[i+1][0] != '$' {
			return segs[i] + "/" + segs[i+1]
		}
	}
	return ""
}

func isResponseBundle(typ string) bool {
	return typ == "batch-response" || typ == "transaction-response"
}

// goneEntry is what a batch or transaction response answers for a withheld
// entry and for a missing one alike.
var goneEntry = []byte(`{"response":{"status":"404 Not Found"}}`)

// writtenEntry is the answer for entry i of the response to the caller's
// own batch or transaction when that entry wrote (POST, PUT, PATCH) and
// succeeded but its echoed result is withheld: the write happened, so it
// answers as return=minimal would, with the entry's status, location
// (on the proxy's base), etag and lastModified and no resource, as the
// top level does for a single write (answerWrittenWithheld). A read, a
// failed write, or a Bundle that is not the response to the request gets
// goneEntry.
func (r *run) writtenEntry(b *bundleNode, i int, e *entryNode) ([]byte, bool) {
	ms := r.ex.batchMethods
	if r.ex.req.Interaction != Batch || b.start != fjson.SkipSpace(r.body, 0) || i >= len(ms) || e.item == nil {
		return nil, false
	}
	switch ms[i] {
	case "POST", "PUT", "PATCH":
	default:
		return nil, false
	}
	a := r.entryParts(e).answer()
	st := a.status
	if len(st) < 3 || st[0] != '2' {
		return nil, false
	}
	out := append([]byte(`{"response":{"status":`), fjson.AppendString(nil, st)...)
	if a.location != "" {
		loc := a.location
		if u, ok := r.s.rewriteBase(loc, r.ex.publicBase); ok {
			loc = u
		} else if strings.Contains(loc, "://") {
			loc = "" // another server's address: not passed on
		}
		if loc != "" {
			out = append(append(out, `,"location":`...), fjson.AppendString(nil, loc)...)
		}
	}
	if a.etag != "" {
		out = append(append(out, `,"etag":`...), fjson.AppendString(nil, a.etag)...)
	}
	if a.lastModified != "" {
		out = append(append(out, `,"lastModified":`...), fjson.AppendString(nil, a.lastModified)...)
	}
	return append(out, "}}"...), true
}

// entryGone reports whether a response entry is a withheld or a missing
// resource.
func (r *run) entryGone(e *entryNode) bool {
	if e.nested == nil {
		// A server may put the missing resource's OperationOutcome in
		// entry.resource rather than response.outcome: by status, it is
		// gone all the same, and answers as a withheld one does.
		if st := r.entryParts(e).answer().status; strings.HasPrefix(st, "404") || strings.HasPrefix(st, "410") {
			return true
		}
	}
	if e.item != nil {
		return !e.item.class.decision.Permitted()
	}
	// A document Bundle read in a batch whose Composition or another
	// entry is withheld: missing, as it is read alone (withholdDocuments).
	// It answered 200 with an empty document, which told that one was
	// withheld (QA round 33, area E).
	return e.nested != nil && e.nested.typ == "document" && documentWithheld(e.nested)
}

// disclosedRefs names the "Type/id" of the disclosed resources of b.
func (r *run) disclosedRefs(b *bundleNode) map[string]bool {
	out := map[string]bool{}
	for _, e := range b.entries {
		if e.item != nil && e.item.class.decision.Permitted() && e.item.res.ID != "" {
			out[e.item.res.Type+"/"+e.item.res.ID] = true
		}
	}
	return out
}

// decrementedTotal is the edit that lowers Bundle.total by the matches
// withheld from b, under enforcement.total: decrement (the default). It
// applies only to a Bundle that is one complete page (no paging links)
// whose total equals its match entries: a count of other pages could hold
// withheld items the proxy never saw, and total is then omitted. So a
// search whose only match is withheld answers "total": 0, as one that
// matched nothing does. A match entry keptEntries drops without a
// withheld resource of its own (a history deletion of a resource with no
// disclosed version) counts as withheld too: a total counting it would
// show that the history holds a resource the caller may not see.
func (r *run) decrementedTotal(b *bundleNode) (fjson.Edit, bool) {
	if r.s.opts.Total == TotalOmit || b.hasPaging {
		return fjson.Edit{}, false
	}
	m := b.members[b.totalIdx]
	vs, ve := trim(r.body, m.vStart, m.end)
	n, err := strconv.Atoi(string(r.body[vs:ve]))
	if err != nil {
		return fjson.Edit{}, false
	}
	kept := r.keptEntries(b) // in b.entries' order
	matches, withheld, k := 0, 0, 0
	for _, e := range b.entries {
		shown := k < len(kept) && kept[k] == e
		if shown {
			k++
		}
		if r.entryParts(e).notMatch {
			continue
		}
		matches++
		if !shown || e.item != nil && !e.item.class.decision.Permitted() {
			withheld++
		}
	}
	if n != matches {
		return fjson.Edit{}, false
	}
	return fjson.Edit{Start: vs, End: ve, Data: strconv.AppendInt(nil, int64(n-withheld), 10)}, true
}

// withExtraNotices adds to ns the notices of the classes of disclosed
// elements and contained resources (eachDisclosedPart), once each, sorted
// by id; disclosedNotices explains the consents those classes rely on.
func (r *run) withExtraNotices(ns []policy.Notice) []policy.Notice {
	byID := map[string]policy.Notice{}
	r.eachDisclosedPart(func(c *class) {
		if c.decision.Permitted() {
			for _, n := range c.decision.Notices {
				byID[n.ID] = n
			}
		}
	})
	if len(byID) == 0 {
		return ns
	}
	for _, n := range ns {
		byID[n.ID] = n
	}
	return sortedNotices(byID)
}

// eachDisclosedPart calls f with the class of each kept element (extra)
// and each contained resource of every disclosed item; f checks whether
// the class itself is permitted.
func (r *run) eachDisclosedPart(f func(*class)) {
	for _, it := range r.items {
		if !it.class.decision.Permitted() {
			continue
		}
		for _, c := range it.extra() {
			if c != nil {
				f(c)
			}
		}
		for _, c := range it.contained {
			if c.class != nil {
				f(c.class)
			}
		}
	}
}

// redactedItem is the ledger's record of what was removed from it: the
// resource, with the labels of its removed elements.
func redactedItem(it *item) audit.Item {
	var ls labels.Set
	for _, e := range it.redacted {
		ls = ls.Union(e.Labels)
	}
	for _, e := range it.masked { // mask.go: masked values count as redacted content
		ls = ls.Union(e.Labels)
	}
	return audit.Item{Type: it.res.Type, ID: it.res.ID, Version: it.res.VersionID, Labels: labelStrings(ls)}
}
