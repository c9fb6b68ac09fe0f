// Package audit is the disclosure ledger: an append-only, hash-chained record
// of what the proxy disclosed, withheld and redacted, to whom, why, and on
// the strength of which consents and policy revision.
//
// [Ledger.Append] returns only after the entries are committed and fsynced,
// so a response may be sent once it returns. Concurrent appends are grouped
// into one transaction (bbolt's Batch: the group commits after the database's
// MaxBatchDelay or once MaxBatchSize calls wait), and the chain stays linear
// because each entry is linked inside that one writer. Every Append waits out
// MaxBatchDelay, so bbolt's default of 10ms sets a floor of 10ms per request
// and about 90 entries/s for a lone caller; whoever opens the database should
// lower it (1ms gives about 600 entries/s alone and 25,000+ from 64 callers
// on a 2-core machine; see BenchmarkAppendDurable).
//
// Each entry's Hash is the hex SHA-256 of its PrevHash (hex text) followed by
// the entry's canonical JSON without Hash; the first entry's PrevHash is
// [GenesisHash]. Canonical JSON is encoding/json's output for [Entry] with
// Time in UTC and nil lists written as []. [Ledger.Verify] recomputes the
// chain and also requires each stored value to be exactly that canonical
// form, every entry to be in the patient index, and the head record to match
// the last entry, so edits, deletions (also of the newest entry), insertions
// and reorderings are reported with the first broken seq. Anyone who can
// write the file can still rebuild a consistent chain: anchoring the head
// outside the file is left to a later change.
//
// # Storage
//
// The ledger lives in a bbolt file shared with other packages, under its own
// versioned root bucket. Integers are 8-byte big-endian, so keys sort by seq;
// "|" stands for one 0x00 byte.
//
//	audit/                               root bucket of this package
//	└── v1/                              schema version
//	    ├── entries/
//	    │   └── <seq> → canonical JSON   one entry, Hash included
//	    ├── patients/
//	    │   └── <patient>|<seq> → ""     entries by patient, in seq order
//	    └── head/
//	        └── "head" → <seq><hash>     last seq and its hex hash (8 + 64 bytes)
package audit
