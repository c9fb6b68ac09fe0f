package audit

import (
	"encoding/json"
	"errors"
	"hash"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// GenesisHash is the PrevHash of the first entry.
var GenesisHash = strings.Repeat("0", 64)

// Party identifies who received a disclosure.
type Party struct {
	// Subject is the authenticated user or system.
	Subject string `json:"subject"`
	// Org is the subject's organisation.
	Org string `json:"org"`
	// Client is the OAuth client the request came through.
	Client string `json:"client"`
	// Name and Address are the recipient's name and postal or electronic
	// address for the accounting of disclosures, when the token states
	// them. They are omitted from the stored JSON when empty, so entries
	// written before they existed keep their bytes and hashes.
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
	// PatientUser marks a caller signed in as a patient (the token's
	// fhirUser names a Patient): Subject, Name and Address then identify a
	// patient, and the SIEM export hashes or drops them with the patient
	// ids (siem patient_ids). Omitted when false, so entries written
	// before it existed, and every other caller's, keep their bytes and
	// hashes.
	PatientUser bool `json:"patient_user,omitempty"`
}

// Item is one resource the proxy disclosed, withheld or redacted.
type Item struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Version string `json:"version"`
	// Labels are the item's security labels as "system|code".
	Labels []string `json:"labels"`
	// Reasons are the policy rules that decided a withheld item (the
	// decision's reasons, by rule name: "part2.no_consent",
	// "smart.patient_compartment"), so that an auditor can tell why it
	// was withheld without replaying the decision; also on an item
	// disclosed under break-the-glass against a consent of the patient
	// that denies it ("break-glass-over-consent-deny"), so that the
	// reviewer of the 2.51 record sees the patient had refused. Omitted when empty, so
	// the entries written before it keep their bytes and hashes.
	Reasons []string `json:"reasons,omitempty"`
}

// ConsentRef names the consent version a decision relied on.
type ConsentRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// BreakGlass records an emergency disclosure without consent
// (42 CFR 2.51): who received it and their affiliation are the entry's
// Caller, when is its Time.
type BreakGlass struct {
	// Reason is the nature of the emergency, as the caller stated it.
	Reason string `json:"reason"`
	// Recipient is the name of the medical personnel, when known beyond
	// Caller.Subject.
	Recipient string `json:"recipient"`
	// Affiliation is the recipient's organisation, when known beyond
	// Caller.Org.
	Affiliation string `json:"affiliation"`
	// DisclosedBy is who disclosed: the program or operator running the proxy.
	DisclosedBy string `json:"disclosed_by"`
}

// Entry is one disclosure decision: one request, one patient.
type Entry struct {
	// Seq numbers entries 1, 2, ... in commit order; Append assigns it.
	Seq uint64 `json:"seq"`
	// Time is when the disclosure happened; Append sets it when zero.
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Caller    Party     `json:"caller"`
	// Purposes are purpose-of-use codes (v3-ActReason).
	Purposes []string `json:"purposes"`
	// Patient is "Patient/<id>"; entries without one are not indexed.
	Patient string `json:"patient"`
	// Interaction is read|vread|search|history|operation|...
	Interaction string `json:"interaction"`
	// Query is the request path and query, without host or tokens.
	Query     string `json:"query"`
	Disclosed []Item `json:"disclosed"`
	// Withheld names what was withheld; it stays in the ledger and never
	// appears in a response.
	Withheld []Item `json:"withheld"`
	Redacted []Item `json:"redacted"`
	// Consents are the consent versions the decisions relied on.
	Consents       []ConsentRef `json:"consents"`
	PolicyRevision string       `json:"policy_revision"`
	// RulesRevision names the label rules and Part 2 programs that
	// labelled the response (labels.Labeller.Revision; two, comma
	// separated, when the rules were reloaded while it was labelled).
	// Omitted when empty, so entries written before it keep their bytes
	// and hashes.
	RulesRevision string `json:"rules_revision,omitempty"`
	// BreakGlass is nil unless the disclosure was an emergency override.
	BreakGlass *BreakGlass `json:"break_glass"`
	// Alert flags the entry for review: the id of the security alert (e.g.
	// a bulk-access alert, proxy/bulk.go) the request raised. Omitted when
	// empty, so entries without one keep their bytes and hashes.
	Alert string `json:"alert,omitempty"`
	// PrevHash is the previous entry's Hash, or GenesisHash.
	PrevHash string `json:"prev_hash"`
	// Hash chains this entry to PrevHash; see the package doc.
	Hash string `json:"hash,omitempty"`
}

// canonical returns e as stored before sealing: Time in UTC, no monotonic
// reading, and empty rather than nil lists.
//
// Every string is valid UTF-8, each invalid byte replaced by U+FFFD as
// encoding/json does when it writes the canonical JSON: otherwise the JSON
// holds \ufffd where the entry holds the byte, decoding it gives a U+FFFD
// that encodes unescaped, and verify found the stored entry not hashing
// to its hash (and stopped there), while its index keys held the raw
// bytes no query could match. A caller can put such a byte in a request's
// query string or a header.
func canonical(e Entry) Entry {
	e.Time = e.Time.UTC()
	e.Purposes = validStrings(nonNil(e.Purposes))
	e.Disclosed = canonicalItems(e.Disclosed)
	e.Withheld = canonicalItems(e.Withheld)
	e.Redacted = canonicalItems(e.Redacted)
	e.Consents = nonNil(e.Consents)
	for i := range e.Consents {
		c := &e.Consents[i]
		c.ID, c.Version = validUTF8(c.ID), validUTF8(c.Version)
	}
	if e.BreakGlass != nil {
		bg := *e.BreakGlass
		bg.Reason, bg.Recipient = validUTF8(bg.Reason), validUTF8(bg.Recipient)
		bg.Affiliation, bg.DisclosedBy = validUTF8(bg.Affiliation), validUTF8(bg.DisclosedBy)
		e.BreakGlass = &bg
	}
	p := &e.Caller
	p.Subject, p.Org, p.Client = validUTF8(p.Subject), validUTF8(p.Org), validUTF8(p.Client)
	p.Name, p.Address = validUTF8(p.Name), validUTF8(p.Address)
	e.RequestID, e.Patient, e.Interaction = validUTF8(e.RequestID), validUTF8(e.Patient), validUTF8(e.Interaction)
	e.Query, e.PolicyRevision, e.RulesRevision = validUTF8(e.Query), validUTF8(e.PolicyRevision), validUTF8(e.RulesRevision)
	e.Alert = validUTF8(e.Alert)
	return e
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json writes it; s itself when valid.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s { // an invalid byte ranges as one utf8.RuneError
		b.WriteRune(r)
	}
	return b.String()
}

// validStrings returns ss when each of its strings is valid UTF-8, else a
// copy with validUTF8 applied to each: ss may be the caller's (Purposes),
// shared with other goroutines, and is never written.
func validStrings(ss []string) []string {
	for i, s := range ss {
		if !utf8.ValidString(s) {
			out := slices.Clone(ss)
			for j := i; j < len(out); j++ {
				out[j] = validUTF8(out[j])
			}
			return out
		}
	}
	return ss
}

// canonicalItems copies items with non-nil labels. The labels are copied
// too (the caller's may be reused once Append returns), all into one
// slice: a search's entry has a thousand items.
func canonicalItems(items []Item) []Item {
	out := make([]Item, len(items))
	n := 0
	for _, it := range items {
		n += len(it.Labels) + len(it.Reasons)
	}
	slab := make([]string, n) // never nil, nor any slice of it
	for i, it := range items {
		k := copy(slab, it.Labels)
		it.Labels, slab = validStrings(slab[:k:k]), slab[k:]
		if len(it.Reasons) == 0 {
			it.Reasons = nil // omitted either way; one spelling
		} else {
			k = copy(slab, it.Reasons)
			it.Reasons, slab = validStrings(slab[:k:k]), slab[k:]
		}
		it.Type, it.ID, it.Version = validUTF8(it.Type), validUTF8(it.ID), validUTF8(it.Version)
		out[i] = it
	}
	return out
}

// nonNil returns a copy of s that is never nil.
func nonNil[T any](s []T) []T {
	return append(make([]T, 0, len(s)), s...)
}

// link sets e.Hash from e.PrevHash and the rest of e under chain (the
// unkeyed SHA-256 or the keyed HMAC-SHA256; see the package doc), and
// returns the entry's canonical JSON.
//
// The canonical JSON is the body the hash covers with the hash appended:
// Hash is Entry's last field and omitted when empty, and a hex string
// needs no escaping, so that is exactly what marshalling e again would
// give (TestLinkAppendsTheHash), without encoding a large entry twice.
func link(e *Entry, chain chainFunc) ([]byte, error) {
	e.Hash = ""
	// The previous hash and the body in one buffer, hashed in one write;
	// the canonical JSON is what follows the previous hash.
	p := len(e.PrevHash)
	buf := append(make([]byte, 0, p+entryJSONSize(e)), e.PrevHash...)
	buf, ok := appendEntryJSON(buf, e) // canon.go: Marshal's bytes
	if !ok {
		_, err := json.Marshal(e)
		if err == nil {
			err = errors.New("the entry's time cannot be encoded")
		}
		return nil, err
	}
	h := chain()
	h.Write(buf)
	e.Hash = sumHex(h)
	out := append(buf[:len(buf)-1], `,"hash":"`...) // over the closing brace: body is hashed and not used again
	out = append(out, e.Hash...)
	return append(out, `"}`...)[p:], nil
}

// chainFunc makes the hash of one chain link: sha256.New (unkeyed) or an
// HMAC-SHA256 under the chain key.
type chainFunc func() hash.Hash

// chainHash is hex(H(prev || body)).
func chainHash(chain chainFunc, prev string, body []byte) string {
	h := chain()
	h.Write([]byte(prev))
	h.Write(body)
	return sumHex(h)
}

// sumHex is hex(h.Sum()), in lower case, with one allocation for the sum
// and one for the string.
func sumHex(h hash.Hash) string {
	const digits = "0123456789abcdef"
	sum := h.Sum(nil)
	var b strings.Builder
	b.Grow(2 * len(sum))
	for _, c := range sum {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}
