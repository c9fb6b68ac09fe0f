package siem

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// Streams of records.
const (
	StreamLedger   = "ledger"
	StreamSecurity = "security"
)

// Values of Config.PatientIDs.
const (
	PatientIDsPlain = "plain"
	PatientIDsHash  = "hash"
	PatientIDsOmit  = "omit"
)

// Record is one line sent to the sinks: JSON with the stream and seq, so a
// SIEM can drop the duplicates of a repeated batch.
type Record struct {
	Stream   string
	Seq      uint64
	Time     time.Time
	Kind     string // event kind, or "disclosure" / "alert" for ledger entries
	Severity string
	JSON     []byte // one line, no newline
}

type ledgerLine struct {
	Stream string      `json:"stream"`
	Seq    uint64      `json:"seq"`
	Entry  audit.Entry `json:"entry"`
}

type eventLine struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Event  Event  `json:"event"`
}

// masker applies Config.PatientIDs to ledger entries.
type masker struct {
	mode string
	key  []byte
}

// entry applies the mode to e. In hash and omit modes it covers the
// patient, the query, the id of every disclosed, withheld and redacted
// item, the consent ids, the break-the-glass reason (free text from the
// token, which may name the patient) and, when the caller is a patient
// (selfAccess), the caller's subject, name and address and the
// break-the-glass recipient.
func (m masker) entry(e audit.Entry) audit.Entry {
	switch m.mode {
	case PatientIDsHash, PatientIDsOmit:
	default:
		return e
	}
	if selfAccess(e) {
		subject := e.Caller.Subject
		e.Caller.Subject, e.Caller.Name, e.Caller.Address = m.text(subject), m.text(e.Caller.Name), m.text(e.Caller.Address)
		if e.BreakGlass != nil && e.BreakGlass.Recipient == subject {
			bg := *e.BreakGlass
			bg.Recipient = e.Caller.Subject
			e.BreakGlass = &bg
		}
	}
	if e.BreakGlass != nil {
		bg := *e.BreakGlass
		bg.Reason = m.text(bg.Reason)
		e.BreakGlass = &bg
	}
	e.Patient, e.Query = m.text(e.Patient), m.text(e.Query)
	e.Disclosed = m.items(e.Disclosed)
	e.Withheld = m.items(e.Withheld)
	e.Redacted = m.items(e.Redacted)
	if len(e.Consents) > 0 {
		refs := make([]audit.ConsentRef, len(e.Consents))
		for i, c := range e.Consents {
			c.ID = m.id(c.ID)
			refs[i] = c
		}
		e.Consents = refs
	}
	return e
}

// event applies the mode to the consent id of a consent event, as to the
// ledger's consent references, so the two still correlate.
func (m masker) event(ev Event) Event {
	ev.Consent = m.id(ev.Consent)
	return ev
}

// selfAccess reports whether e's caller is a patient, whose subject
// identifies the patient as much as e.Patient does: the proxy marks a
// caller signed in as a patient (Party.PatientUser), and a subject that is
// a Patient or RelatedPerson reference, or the entry's patient, is taken
// for one too (entries recorded before the mark).
func selfAccess(e audit.Entry) bool {
	s := e.Caller.Subject
	return e.Caller.PatientUser || strings.HasPrefix(s, "Patient/") || strings.HasPrefix(s, "RelatedPerson/") ||
		s != "" && s == e.Patient || s != "" && "Patient/"+s == e.Patient
}

// text is a value that identifies a patient as the mode has it: itself,
// its hash or "".
func (m masker) text(s string) string { return m.id(s) }

// id is a resource id as the mode has it: itself, its hash or "".
func (m masker) id(s string) string {
	switch m.mode {
	case PatientIDsHash:
		return m.hash(s)
	case PatientIDsOmit:
		return ""
	}
	return s
}

func (m masker) items(items []audit.Item) []audit.Item {
	out := make([]audit.Item, len(items))
	for i, it := range items {
		it.ID = m.id(it.ID)
		out[i] = it
	}
	return out
}

// hash is "hmac-sha256:" and the hex HMAC of s under the key; "" stays "".
func (m masker) hash(s string) string {
	if s == "" {
		return ""
	}
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(s))
	return "hmac-sha256:" + hex.EncodeToString(h.Sum(nil))
}

func (m masker) ledgerRecord(e audit.Entry) (Record, error) {
	b, err := json.Marshal(ledgerLine{Stream: StreamLedger, Seq: e.Seq, Entry: m.entry(e)})
	if err != nil {
		return Record{}, fmt.Errorf("siem: encoding ledger seq %d: %w", e.Seq, err)
	}
	kind, sev := "disclosure", SeverityInfo
	if e.BreakGlass != nil {
		kind, sev = "disclosure_break_glass", SeverityWarning
	}
	if e.Alert != "" {
		kind, sev = "disclosure_alert", SeverityAlert
	}
	return Record{Stream: StreamLedger, Seq: e.Seq, Time: e.Time, Kind: kind, Severity: sev, JSON: b}, nil
}

func (m masker) eventRecord(ev Event) (Record, error) {
	b, err := json.Marshal(eventLine{Stream: StreamSecurity, Seq: ev.Seq, Event: m.event(ev)})
	if err != nil {
		return Record{}, fmt.Errorf("siem: encoding event %d: %w", ev.Seq, err)
	}
	return Record{Stream: StreamSecurity, Seq: ev.Seq, Time: ev.Time, Kind: ev.Kind, Severity: ev.Severity, JSON: b}, nil
}
