package siem

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

func (m masker) entry(e audit.Entry) audit.Entry {
	switch m.mode {
	case PatientIDsHash:
		e.Patient = m.hash(e.Patient)
		e.Query = m.hash(e.Query)
	case PatientIDsOmit:
		e.Patient, e.Query = "", ""
	default:
		return e
	}
	e.Disclosed = m.items(e.Disclosed)
	e.Withheld = m.items(e.Withheld)
	e.Redacted = m.items(e.Redacted)
	return e
}

func (m masker) items(items []audit.Item) []audit.Item {
	out := make([]audit.Item, len(items))
	for i, it := range items {
		if m.mode == PatientIDsOmit {
			it.ID = ""
		} else {
			it.ID = m.hash(it.ID)
		}
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

func eventRecord(ev Event) (Record, error) {
	b, err := json.Marshal(eventLine{Stream: StreamSecurity, Seq: ev.Seq, Event: ev})
	if err != nil {
		return Record{}, fmt.Errorf("siem: encoding event %d: %w", ev.Seq, err)
	}
	return Record{Stream: StreamSecurity, Seq: ev.Seq, Time: ev.Time, Kind: ev.Kind, Severity: ev.Severity, JSON: b}, nil
}
