// Package audit is the disclosure ledger: an append-only, hash-chained record
// of what the proxy disclosed, withheld and redacted, to whom, why, and on
// the strength of which consents and policy revision.
//
// [Ledger.Append] returns only after the entries are durable, so a response
// may be sent once it returns: written to the write-ahead journal and
// fdatasynced (journal.go), then stored in bbolt behind it by an applier
// that every read waits for; with the journal off ([WithJournalSize] 0),
// committed to bbolt and fsynced. Concurrent appends are grouped into one
// journal record (or transaction) and one fsync (see groupCommit in
// commit.go: the first caller commits at once, callers arriving meanwhile
// go together in the next commit), and the chain stays linear because each
// entry is linked inside that one writer. Call [Ledger.Close] before closing
// the database; a ledger not closed is recovered from its journal by the
// next Open. See BenchmarkAppendDurable for entries/s by concurrency.
//
// An append writes the entry and the head only. The secondary indexes are
// written for 64 entries at once (deferred.go), in the commit that brings
// the run to 64, and before every query, Verify and ds4p's shutdown; meta
// "indexed" marks where they stop meanwhile. Queries also read the entries
// after the mark from the entries bucket, so a read-only open after a crash
// still finds everything, and the next read-write Open indexes them. Each
// index being its own bucket, writing every entry's keys at once doubled the
// pages a commit writes and halved the durable entries per second. A file
// left with a mark by a crash is fully indexed by the next Open; a ds4p
// older than the mark would report its waiting entries missing from the
// indexes until then.
//
// Each entry's Hash is the hex SHA-256 of its PrevHash (hex text) followed by
// the entry's canonical JSON without Hash; the first entry's PrevHash is
// [GenesisHash]. In an encrypted ledger ([WithSealer]) it is instead the
// hex HMAC-SHA256 under the chain key (see "Encryption" below). Canonical JSON is encoding/json's output for [Entry] with
// Time in UTC and nil lists written as []. [Ledger.Verify] recomputes the
// chain and also requires each stored value (decompressed) to be exactly that canonical
// form, every entry to be in each secondary index it belongs in and no
// index key without its entry (entries after the "indexed" mark must have
// none), and the head record to match the last entry,
// so edits, deletions (also of the newest entry), insertions and
// reorderings are reported with the first broken seq. Anyone who can write
// the file can still rebuild a consistent chain: a head ([Ledger.Head])
// recorded outside the host and checked later with [Ledger.HashAt] (`ds4p
// audit verify --head`) detects that; in an encrypted ledger, only someone
// holding the storage key can. Cutting the chain back is another matter:
// the sealed head is bound to its bucket and key only, so an older sealed
// head put back (from a backup) with the entries after it deleted leaves
// a shorter, intact chain, which only a head recorded outside the host
// detects (or, while the journal still holds them, [WithPendingJournal]'s
// Verify, which reports them as pending).
//
// Entries of 4 KB or more (a search's entry lists every item it disclosed
// or withheld) are stored zstd-compressed, about 30 times smaller for a
// 1,000-item search; see compress.go. A stored value is compressed when
// it starts with the zstd magic number rather than '{', so older entries
// need no migration, and exports, hashes and HashAt are over the canonical
// JSON.
//
// # Queries
//
// [Ledger.Find] selects by patient, recipient (caller subject or
// organisation), purpose of use, break-the-glass and time range, in (time,
// seq) order, paged by an opaque [Cursor]. Each query walks one secondary
// index from its start key, so its cost is that of the entries it reads, not
// of the ledger's size. [Ledger.Accounting] is the accounting of disclosures
// of one patient (42 CFR 2.24, 45 CFR 164.528), rendered by [WriteCSV] and
// [AuditEventBundle] (IHE BALP AuditEvents).
//
// # Retention
//
// [Ledger.Prune] exports the oldest entries (a prefix of the chain) to
// NDJSON files, fsyncs them, then deletes the entries and records a
// [Checkpoint]: the seq and hash of the last pruned entry. Verify starts
// from the checkpoint; [VerifyNDJSON] checks the exports from genesis up
// to it. In an encrypted ledger the checkpoint carries an HMAC-SHA256
// under the chain key (meta "checkpoint_mac"), so someone without the key
// cannot delete the oldest entries and write a checkpoint after them:
// Verify, Checkpoint (hence the accounting) and Prune refuse a checkpoint
// without its MAC ([ErrCheckpointUnauthenticated]; written by a ds4p
// older than the MAC, until the exports vouch for it and
// [Ledger.AuthenticateCheckpoint] records that), and an altered one is a
// *BrokenError. A plaintext ledger's checkpoint cannot be authenticated
// ([CheckpointPlaintext]). [WithMinRetention] also refuses a checkpoint
// younger than the shortest retention allows.
//
// # Encryption
//
// With [WithSealer] the ledger is encrypted (schema 3): every entry value
// and the head are sealed (AES-256-GCM, package internal/seal), the keys of
// the by_patient, by_recipient and by_purpose indexes hold the 16-byte
// HMAC-SHA256 of the value instead of the value (so the file names no
// patient, recipient or purpose; a query by patient walks the HMAC of the
// patient; equal values still share a prefix, which shows how many entries
// share a patient but not who), and links from keyed_from on are keyed.
// The chain key derives from the file's store secret, which key rotation
// re-seals but never changes: the chain needs no re-keying when storage
// keys rotate, and each link records no key id. Someone who can write the
// file but lacks the storage key can neither read nor alter an entry (GCM)
// nor forge a consistent chain (HMAC); Verify and [Ledger.VerifyNDJSON]
// need the key. [Open] encrypts a schema-2 ledger in transactions of 10,000
// entries (resuming after a crash, progress in meta "migrated"): values are
// sealed in place with their unkeyed hashes, so a head recorded before
// stays valid, index keys are replaced, and keyed_from is set to the next
// seq. Those older links stay unkeyed SHA-256 but cannot be altered
// unnoticed: each is sealed, and the first keyed link covers the last
// unkeyed hash. Without its sealer, Open refuses an encrypted ledger
// before writing anything.
//
// # Storage
//
// The ledger lives in a bbolt file shared with other packages, under its own
// root bucket. Integers are 8-byte big-endian, so keys sort by number;
// <time> is Unix nanoseconds with the sign bit flipped (so it sorts as time
// does); "|" stands for one 0x00 byte (values never contain one).
//
//	audit/                                  root bucket of this package
//	└── v1/                                 layout family
//	    ├── entries/
//	    │   └── <seq> → canonical JSON      one entry, Hash included; zstd-compressed from 4 KB
//	    ├── by_time/<time><seq> → ""        every entry
//	    ├── by_patient/<patient>|<time><seq> → ""
//	    ├── by_recipient/<subject or org>|<time><seq> → ""   one key for each
//	    ├── by_purpose/<purpose>|<time><seq> → ""            one key for each
//	    ├── by_break_glass/<time><seq> → "" break-the-glass entries only
//	    ├── head/
//	    │   ├── "head" → <seq><hash>        last seq and its hex hash (8 + 64 bytes)
//	    │   └── "keyed_from" → <seq>        schema 3: the first keyed link
//	    └── meta/
//	        ├── "version" → 1 byte          schema version: 2 plaintext, 3 encrypted
//	        ├── "checkpoint" → JSON         the prune Checkpoint, once pruned
//	        ├── "checkpoint_mac" → 32 bytes schema 3: HMAC-SHA256 of the checkpoint under the chain key
//	        ├── "indexed" → <seq>           while entries wait for index keys: the indexes are complete through seq
//	        └── "migrated" → <seq>          progress of a migration under way
//
// In schema 3 every value of entries and head is sealed, and
// <patient>|, <subject or org>| and <purpose>| are each 16 bytes of
// HMAC-SHA256 (no 0x00 separator).
//
// Schema versions: 1 had entries, head and patients/<patient>|<seq> and no
// meta bucket. 2 adds meta and the by_* indexes and drops patients. 3 is 2
// encrypted (see Encryption). [Open]
// migrates a version-1 ledger in transactions of 10,000 entries, recording
// its progress, so an interrupted migration resumes; a read-only open of a
// version-1 ledger fails with [ErrNeedsMigration].
package audit
