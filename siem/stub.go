package siem

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// A stub stands for a record too long for a transport (a syslog datagram):
// it still correlates with the full record, which the file and TCP sinks
// carry and the ledger keeps, by stream and seq, by the SHA-256 of the
// full JSON line and, for a ledger entry, by its chain hash.
//
//	{"stream":"ledger","seq":7,"truncated":true,"bytes":123456,"sha256":"…",
//	 "entry":{…the entry without disclosed, withheld, redacted and consents…,
//	          "counts":{"disclosed":1000,"withheld":0,"redacted":0,"consents":1}}}
//
// It is made from the record's JSON, so patient_ids applies to it as to
// the record.

// stubLevel is how much of the record a stub keeps, most first.
type stubLevel int

const (
	// stubItems keeps all of the entry or event but the item and
	// consent lists, which it counts.
	stubItems stubLevel = iota
	// stubMinimal keeps the seq, time, kind, severity, request id and,
	// for an entry, its chain hash and counts.
	stubMinimal
	// stubBare keeps the stream, seq, kind, length and SHA-256 alone
	// (~200 bytes).
	stubBare
)

type stubCounts struct {
	Disclosed int `json:"disclosed"`
	Withheld  int `json:"withheld"`
	Redacted  int `json:"redacted"`
	Consents  int `json:"consents"`
}

// stubEntry is an entry without its lists (in Entry's member order).
type stubEntry struct {
	Seq            uint64            `json:"seq"`
	Time           time.Time         `json:"time"`
	RequestID      string            `json:"request_id"`
	Caller         *audit.Party      `json:"caller,omitempty"`
	Purposes       []string          `json:"purposes,omitempty"`
	Patient        string            `json:"patient,omitempty"`
	Interaction    string            `json:"interaction,omitempty"`
	Query          string            `json:"query,omitempty"`
	PolicyRevision string            `json:"policy_revision,omitempty"`
	RulesRevision  string            `json:"rules_revision,omitempty"`
	BreakGlass     *audit.BreakGlass `json:"break_glass,omitempty"`
	Alert          string            `json:"alert,omitempty"`
	PrevHash       string            `json:"prev_hash,omitempty"`
	Hash           string            `json:"hash"`
	Counts         stubCounts        `json:"counts"`
}

// stubEvent is an event cut to what identifies it.
type stubEvent struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Severity  string    `json:"severity"`
	RequestID string    `json:"request_id,omitempty"`
}

type stubLine struct {
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	Kind      string `json:"kind,omitempty"` // stubBare only: the entry or event is gone
	Truncated bool   `json:"truncated"`
	Bytes     int    `json:"bytes"`  // the full JSON line's length
	SHA256    string `json:"sha256"` // hex SHA-256 of the full JSON line
	Entry     any    `json:"entry,omitempty"`
	Event     any    `json:"event,omitempty"`
}

// stub returns the JSON line of r's stub at level (see stubLevel).
func stub(r Record, level stubLevel) []byte {
	sum := sha256.Sum256(r.JSON)
	out := stubLine{Stream: r.Stream, Seq: r.Seq, Truncated: true, Bytes: len(r.JSON), SHA256: hex.EncodeToString(sum[:])}
	if level < stubBare {
		switch r.Stream {
		case StreamLedger:
			var l ledgerLine
			if json.Unmarshal(r.JSON, &l) == nil {
				out.Entry = entryStub(l.Entry, level)
			}
		case StreamSecurity:
			var l eventLine
			if json.Unmarshal(r.JSON, &l) == nil {
				if level == stubItems {
					out.Event = l.Event // an event has no lists: whole, or minimal
				} else {
					ev := l.Event
					out.Event = stubEvent{Seq: ev.Seq, Time: ev.Time, Kind: ev.Kind, Severity: ev.Severity, RequestID: ev.RequestID}
				}
			}
		}
	}
	if out.Entry == nil && out.Event == nil {
		out.Kind = r.Kind
	}
	b, err := json.Marshal(out)
	if err != nil { // cannot happen: the values came from JSON
		return []byte(`{"stream":"` + r.Stream + `","truncated":true}`)
	}
	return b
}

func entryStub(e audit.Entry, level stubLevel) stubEntry {
	s := stubEntry{Seq: e.Seq, Time: e.Time, RequestID: e.RequestID, Hash: e.Hash,
		Counts: stubCounts{Disclosed: len(e.Disclosed), Withheld: len(e.Withheld), Redacted: len(e.Redacted), Consents: len(e.Consents)}}
	if level == stubItems {
		caller := e.Caller
		s.Caller, s.Purposes, s.Patient, s.Interaction, s.Query = &caller, e.Purposes, e.Patient, e.Interaction, e.Query
		s.PolicyRevision, s.RulesRevision, s.BreakGlass, s.Alert, s.PrevHash = e.PolicyRevision, e.RulesRevision, e.BreakGlass, e.Alert, e.PrevHash
	}
	return s
}
