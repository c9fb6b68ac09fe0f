// Package siem streams the disclosure ledger and the proxy's security
// events to a SIEM: as JSON lines to a file or to syslog (RFC 5424 over UDP,
// TCP or a unix socket), and as OpenTelemetry log records through the
// global LoggerProvider.
//
// # Delivery
//
// Delivery is at least once across restarts. A security event is appended
// to a durable queue (a bbolt bucket, fsynced) by [Queue.Emit] before the
// request that raised it is answered; ledger entries are durable once
// [audit.Ledger.Append] returns. The [Exporter] reads both in order after
// a cursor (the last ledger seq and the last event seq it delivered),
// writes a batch to every sink (a file sink fsyncs), then stores the new
// cursor and deletes the delivered events in one transaction. A crash
// between the write and the cursor store repeats that one batch at the
// next start: duplicates are possible only for the last unacknowledged
// batch, and every record carries its stream and seq so the SIEM can drop
// them. OpenTelemetry records are emitted with the batch but
// unacknowledged: the OTel SDK's own exporter decides their delivery.
// When one sink fails a batch, the sinks before it, which took it, are
// given only the records they have not had when it is retried (the
// exporter keeps each sink's progress while it runs).
//
// No record can stop the export. Over a datagram transport (syslog over
// UDP or a unix datagram socket) a record longer than MaxDatagram (8 KiB
// by default) is sent as a stub: the entry without its item and consent
// lists but with their counts, "truncated": true, the full line's length
// and SHA-256; the SIEM finds the full record by (stream, seq) in the file
// or TCP sink, or in the ledger by seq and chain hash. A record a sink
// refuses for good ([RejectedError]), or that cannot be encoded, is
// skipped, counted (ds4p.siem.records.skipped) and logged by stream, seq,
// kind and length, never by its content.
//
// # What a record carries
//
// The ledger stream carries patient ids by design: it IS the audit trail
// (who saw which patient's data, and what was withheld). With
// PatientIDs "hash" every patient reference, resource id and query is
// replaced by a keyed HMAC-SHA256 (stable across restarts for one key, so
// the SIEM can still correlate) and with "omit" they are dropped: the
// entry's patient and query, the ids of its disclosed, withheld and
// redacted items, its consent ids, the break-the-glass reason (free text
// from the token) and, when the caller is a patient (caller.patient_user,
// or a subject that is a Patient or RelatedPerson reference or the entry's
// patient), the caller's subject, name and address and a break-the-glass
// recipient equal to the subject. Types, versions, labels, reasons,
// purposes, times, seqs, hashes and a clinician's subject, org and client
// are kept.
// Security events never carry a patient id, a token or a search query:
// only the kind, time, request id, the caller's subject, organisation and
// client, and reasons from a fixed vocabulary or the verifier's message.
//
// # Storage
//
//	siem/                          root bucket of this package
//	└── v1/
//	    ├── events/<seq> → JSON    queued security events; seq 8-byte big-endian
//	    └── cursor/
//	        ├── "cursor" → <ledger seq><event seq>      16 bytes, big-endian
//	        └── "queued_bytes" → <n>                    8 bytes, big-endian: the
//	                                                    queued events' JSON
//
// The queue is bounded by count (Queue.MaxQueued, 1,000,000) and by the
// bytes of the queued JSON (Queue.MaxQueuedBytes, 256 MiB; counted on open
// for a store from before the count was kept). When either is reached Emit
// drops the new event (never a queued one) with ErrQueueFull, counted by
// ds4p.siem.events.dropped{kind, limit}; token_refused and rate_limited,
// which a caller raises at will, are dropped from 90 % of either, so that a
// flood of them leaves room for the others. An event's Reason is cut to
// MaxReasonBytes (256).
//
// In an encrypted store ([WithSealer]) every value of both buckets is
// sealed (internal/seal, bound to its bucket and key); values queued in
// plaintext before encryption are sealed when [OpenQueue] opens the store,
// and without its sealer OpenQueue refuses an encrypted store.
package siem
