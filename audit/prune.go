package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
)

// pruneChunk is how many entries one prune round exports and deletes.
const pruneChunk = 10_000

// Checkpoint records where the pruned part of the chain ended, so that
// Verify can start after it.
type Checkpoint struct {
	// Seq and Hash are those of the last pruned entry; Seq 0 with
	// GenesisHash means nothing was pruned.
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	// Time is the latest time of any pruned entry (an entry's time is when
	// its request arrived, so a later seq can carry an earlier time: the
	// last pruned entry's time could leave an accounting from between the
	// two without its pruned note); PrunedAt when it was pruned.
	Time     time.Time `json:"time"`
	PrunedAt time.Time `json:"pruned_at"`
	// Export is the file name (in the export directory) of the last
	// export, and ExportSHA256 the hex SHA-256 of its bytes.
	Export       string `json:"export"`
	ExportSHA256 string `json:"export_sha256"`
}

// checkpointMACKey names, in meta, the MAC of an encrypted ledger's
// checkpoint (checkpointMAC).
var checkpointMACKey = []byte("checkpoint_mac")

// checkpointDomain starts every checkpoint MAC's input: it is not 64 hex
// digits, so no chain link (the previous hash in hex, then the entry's
// JSON) has the same input under the same chain key.
const checkpointDomain = "ds4p/audit/v1/meta/checkpoint\x00"

// CheckpointAuth says what vouches for a prune checkpoint.
type CheckpointAuth int

const (
	// CheckpointNone: nothing was pruned; Verify starts from genesis.
	CheckpointNone CheckpointAuth = iota
	// CheckpointAuthenticated: an encrypted ledger's checkpoint whose MAC
	// under the chain key checks, so Prune wrote it (or Open, encrypting a
	// ledger pruned in plaintext, or AuthenticateCheckpoint).
	CheckpointAuthenticated
	// CheckpointUnauthenticated: an encrypted ledger's checkpoint without
	// its MAC: written by a ds4p from before checkpoints were
	// authenticated, or by someone without the storage key who deleted
	// the entries before it. Verify, Checkpoint and Prune refuse it.
	CheckpointUnauthenticated
	// CheckpointPlaintext: a plaintext ledger's checkpoint. Nothing can
	// authenticate it: someone able to write the file can delete the
	// oldest entries and write a checkpoint after them, which only the
	// exports or a head recorded off the host show.
	CheckpointPlaintext
)

// String names the state as ds4p audit verify prints it.
func (a CheckpointAuth) String() string {
	switch a {
	case CheckpointAuthenticated:
		return "authenticated"
	case CheckpointUnauthenticated:
		return "not authenticated"
	case CheckpointPlaintext:
		return "plaintext ledger, not authenticated"
	}
	return "none"
}

// ErrCheckpointUnauthenticated: an encrypted ledger's prune checkpoint has
// no MAC under its storage key (see CheckpointUnauthenticated).
var ErrCheckpointUnauthenticated = errors.New("the encrypted ledger's prune checkpoint carries no MAC under its storage key: " +
	"it was written by a ds4p older than checkpoint authentication, or by someone without the key who deleted the entries before it. " +
	"Check it against the prune exports: `ds4p audit verify --exports DIR` accepts it when the exports chain from genesis to it, " +
	"and `ds4p audit checkpoint --authenticate --exports DIR` (serve stopped) then records that, so that verify, prune and the accounting accept it again")

// ErrCheckpointTooRecent: the last pruned entry is younger than the
// minimum retention (WithMinRetention) allows.
var ErrCheckpointTooRecent = errors.New("the last pruned entry is younger than the minimum retention: " +
	"entries were deleted before their retention ended (or the retention was shortened since)")

// CheckpointError says why a prune checkpoint is not relied on.
type CheckpointError struct {
	Checkpoint Checkpoint
	// Err is ErrCheckpointUnauthenticated or ErrCheckpointTooRecent.
	Err error
	// Detail adds what was compared, or "".
	Detail string
}

// Error returns "audit: the prune checkpoint (...): why".
func (e *CheckpointError) Error() string {
	s := fmt.Sprintf("audit: the prune checkpoint (entries through seq %d, the last of %s, pruned %s): %v",
		e.Checkpoint.Seq, e.Checkpoint.Time.UTC().Format(time.RFC3339), e.Checkpoint.PrunedAt.UTC().Format(time.RFC3339), e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns Err.
func (e *CheckpointError) Unwrap() error { return e.Err }

// WithMinRetention sets the shortest retention the ledger was ever pruned
// with: Checkpoint (so the accounting) and Verify then refuse a
// checkpoint whose last pruned entry is younger than that, now (a
// ErrCheckpointTooRecent CheckpointError). 0, the default, checks nothing.
func WithMinRetention(d time.Duration) Option {
	return func(l *Ledger) { l.minRetention = d }
}

// checkpointMAC is the HMAC-SHA256, under the chain key, of a checkpoint's
// stored JSON v, bound to its place (checkpointDomain). Only an encrypted
// ledger has one. The chain key never changes with storage key rotation,
// so neither does the MAC.
func (c codec) checkpointMAC(v []byte) []byte {
	m := c.s.ChainMAC()
	m.Write([]byte(checkpointDomain))
	m.Write(v)
	return m.Sum(nil)
}

// readCheckpoint returns the prune checkpoint, or the genesis one, and
// what vouches for it. A MAC that does not match (or one without its
// checkpoint) is a *BrokenError: the checkpoint was altered.
func readCheckpoint(b buckets) (Checkpoint, CheckpointAuth, error) {
	v, mac := b.meta.Get(checkpointKey), b.meta.Get(checkpointMACKey)
	if v == nil {
		if mac != nil {
			return Checkpoint{}, 0, &BrokenError{Seq: 0, Reason: "the prune checkpoint's MAC is there but the checkpoint is not: it was deleted"}
		}
		return Checkpoint{Hash: GenesisHash}, CheckpointNone, nil
	}
	var cp Checkpoint
	if err := json.Unmarshal(v, &cp); err != nil || len(cp.Hash) != len(GenesisHash) {
		return Checkpoint{}, 0, errors.New("the prune checkpoint does not decode")
	}
	switch {
	case !b.c.sealed():
		return cp, CheckpointPlaintext, nil
	case mac == nil:
		return cp, CheckpointUnauthenticated, nil
	case !hmac.Equal(mac, b.c.checkpointMAC(v)):
		return Checkpoint{}, 0, &BrokenError{Seq: cp.Seq, Reason: "the prune checkpoint does not match its MAC under the chain key: it was altered (or its MAC copied from another checkpoint)"}
	}
	return cp, CheckpointAuthenticated, nil
}

// writeCheckpoint records cp, with its MAC in an encrypted ledger.
func writeCheckpoint(b buckets, cp Checkpoint) error {
	v, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if err := b.meta.Put(checkpointKey, v); err != nil {
		return err
	}
	if !b.c.sealed() {
		return b.meta.Delete(checkpointMACKey)
	}
	return b.meta.Put(checkpointMACKey, b.c.checkpointMAC(v))
}

// trustCheckpoint returns why cp, vouched for by auth, may not be relied
// on, or nil. proven is a checkpoint the caller checked otherwise (the
// exports), or nil.
func (l *Ledger) trustCheckpoint(cp Checkpoint, auth CheckpointAuth, proven *Checkpoint) error {
	if auth == CheckpointUnauthenticated && (proven == nil || proven.Seq != cp.Seq || proven.Hash != cp.Hash) {
		return &CheckpointError{Checkpoint: cp, Err: ErrCheckpointUnauthenticated}
	}
	if auth != CheckpointNone && l.minRetention > 0 {
		if oldest := l.now().Add(-l.minRetention); !cp.Time.Before(oldest) {
			return &CheckpointError{Checkpoint: cp, Err: ErrCheckpointTooRecent,
				Detail: fmt.Sprintf("minimum retention %s: only entries before %s may have been pruned", l.minRetention, oldest.UTC().Format(time.RFC3339))}
		}
	}
	return nil
}

// Checkpoint returns the prune checkpoint (Seq 0 when nothing was pruned).
// It fails with a *CheckpointError when the checkpoint is not to be relied
// on (an encrypted ledger's without its MAC, or one younger than the
// minimum retention), and with a *BrokenError when it was altered.
// Accounting calls it, so an accounting from an untrusted checkpoint fails.
func (l *Ledger) Checkpoint(ctx context.Context) (Checkpoint, error) {
	cp, auth, err := l.CheckpointStatus(ctx)
	if err == nil {
		err = l.trustCheckpoint(cp, auth, nil)
	}
	return cp, err
}

// CheckpointStatus returns the prune checkpoint and what vouches for it,
// without judging it (Checkpoint does); an altered one is a *BrokenError.
func (l *Ledger) CheckpointStatus(ctx context.Context) (cp Checkpoint, auth CheckpointAuth, err error) {
	if err := ctx.Err(); err != nil {
		return cp, auth, err
	}
	err = l.view(ctx, func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		cp, auth, err = readCheckpoint(b)
		return err
	})
	return cp, auth, err
}

// AuthenticateCheckpoint records the MAC of an encrypted ledger's
// unauthenticated checkpoint (CheckpointUnauthenticated), if it is still
// want (seq and hash): the caller has checked it otherwise, normally by
// verifying the prune exports from genesis to it (Ledger.VerifyNDJSON,
// whose checkpoint carries the latest exported time). Its time becomes
// want's when that is later, and its export name and SHA-256 want's when
// want names one (the file the caller checked the last entry in). An
// authenticated one is left as it is.
func (l *Ledger) AuthenticateCheckpoint(ctx context.Context, want Checkpoint) error {
	if err := l.barrier(ctx); err != nil {
		return err
	}
	if !l.codec.sealed() {
		return errors.New("audit: authenticating the checkpoint: the ledger is not encrypted, so there is no key to authenticate it with")
	}
	return l.db.Update(func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		cp, auth, err := readCheckpoint(b)
		switch {
		case err != nil:
			return err
		case cp.Seq != want.Seq || cp.Hash != want.Hash:
			return fmt.Errorf("audit: authenticating the checkpoint: it is seq %d, not the seq %d checked", cp.Seq, want.Seq)
		case auth != CheckpointUnauthenticated:
			return nil
		}
		// The exports vouch for the time too: the stored one is whatever
		// the file says (set back by someone without the key, or an older
		// ds4p's last pruned seq's time), and a MAC over a time before the
		// latest pruned entry left an accounting from between the two
		// without its pruned note.
		if want.Time.After(cp.Time) {
			cp.Time = want.Time
		}
		// And the export that holds the checkpoint's entry: the stored
		// name and digest are whatever the file says too, and once MACed
		// verify, the report and the accounting's pruned note name them as
		// where the pruned disclosures are.
		if want.Export != "" {
			cp.Export, cp.ExportSHA256 = want.Export, want.ExportSHA256
		}
		return writeCheckpoint(b, cp)
	})
}

// PruneResult says what Prune removed.
type PruneResult struct {
	// Pruned counts the entries deleted; Files are the export files
	// written, full paths, oldest first.
	Pruned     int
	Files      []string
	Checkpoint Checkpoint
}

// Prune deletes the oldest entries whose Time is before cutoff, after
// writing them to exportDir. It walks the chain from the checkpoint and
// stops at the first entry at or after cutoff, so the pruned part is always
// a prefix of the chain. Each round of up to pruneChunk entries checks the
// chain links of what it will delete (a broken chain is never pruned), writes
// them as NDJSON (the stored bytes, one entry a line, seq order) to
// exportDir/ledger-<first seq>-<last seq>.ndjson, fsyncs the file and the
// directory, and only then deletes them with their index keys and records
// the last one as the checkpoint, in one transaction.
func (l *Ledger) Prune(ctx context.Context, cutoff time.Time, exportDir string) (PruneResult, error) {
	var res PruneResult
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("audit: pruning: %w", err)
		}
		n, file, cp, err := l.pruneRound(cutoff, exportDir)
		if err != nil {
			return res, fmt.Errorf("audit: pruning: %w", err)
		}
		if n == 0 {
			return res, nil
		}
		res.Pruned += n
		res.Files = append(res.Files, file)
		res.Checkpoint = cp
	}
}

// prunable is one round's entries: canonical JSON and decoded.
type prunable struct {
	from    Checkpoint
	raw     [][]byte
	entries []Entry
	// legacy are the entries among them verified as legacy encodings
	// (verifier.legacy), seq to time key.
	legacy map[uint64]uint64
}

// pruneRound exports and deletes up to pruneChunk entries.
func (l *Ledger) pruneRound(cutoff time.Time, dir string) (int, string, Checkpoint, error) {
	var p prunable
	err := l.view(context.Background(), func(tx *bbolt.Tx) error {
		var err error
		p, err = l.collectPrunable(tx, cutoff)
		return err
	})
	if err != nil || len(p.entries) == 0 {
		return 0, "", Checkpoint{}, err
	}
	last := p.entries[len(p.entries)-1]
	name := ExportName(p.entries[0].Seq, last.Seq)
	// An export a round wrote before its delete failed, or before a crash,
	// holds entries the ledger still has; left beside this round's, the
	// two would overlap and the exports no longer chain.
	if err := removeUnfinishedExports(dir, p.from.Seq); err != nil {
		return 0, "", Checkpoint{}, fmt.Errorf("removing an unfinished prune's export: %w", err)
	}
	sum, err := writeExport(dir, name, p.raw)
	if err != nil {
		return 0, "", Checkpoint{}, fmt.Errorf("writing the export: %w", err)
	}
	latest := p.from.Time // the earlier rounds' latest
	for _, e := range p.entries {
		if e.Time.After(latest) {
			latest = e.Time
		}
	}
	cp := Checkpoint{Seq: last.Seq, Hash: last.Hash, Time: latest.UTC(), PrunedAt: l.now().UTC(), Export: name, ExportSHA256: sum}
	if err := l.db.Update(func(tx *bbolt.Tx) error { return l.deletePruned(tx, p, cp) }); err != nil {
		// The entries stay in the ledger: their export is not one (the
		// next round would also remove it).
		if rmErr := os.Remove(filepath.Join(dir, name)); rmErr == nil {
			_ = syncDir(dir)
		}
		return 0, "", Checkpoint{}, err
	}
	l.recent.forgetThrough(cp.Seq)
	return len(p.entries), filepath.Join(dir, name), cp, nil
}

// collectPrunable reads the chain from the checkpoint up to the first
// entry at or after cutoff, checking each link.
func (l *Ledger) collectPrunable(tx *bbolt.Tx, cutoff time.Time) (prunable, error) {
	b, err := l.buckets(tx)
	if err != nil {
		return prunable{}, err
	}
	cp, auth, err := readCheckpoint(b)
	if err != nil {
		return prunable{}, err
	}
	// A prune from a checkpoint nobody vouches for would authenticate what
	// comes after it. (One younger than the minimum retention is reported
	// by Verify and Checkpoint; refusing to prune would not undo it.)
	if auth == CheckpointUnauthenticated {
		return prunable{}, &CheckpointError{Checkpoint: cp, Err: ErrCheckpointUnauthenticated}
	}
	keyedFrom, err := b.keyedFrom()
	if err != nil {
		return prunable{}, err
	}
	p := prunable{from: cp}
	v := &verifier{next: cp.Seq + 1, prev: cp.Hash, c: b.c, keyedFrom: keyedFrom}
	c := b.entries.Cursor()
	for k, val := c.Seek(seqKey(v.next)); k != nil && len(p.entries) < pruneChunk; k, val = c.Next() {
		e, plain, err := b.entry(k, val)
		if err != nil || !e.Time.Before(cutoff) {
			break
		}
		if reason := v.check(e, plain); reason != "" {
			return prunable{}, &BrokenError{Seq: v.next, Reason: reason + "; not pruning a broken chain"}
		}
		p.raw = append(p.raw, bytes.Clone(plain))
		p.entries = append(p.entries, e)
		v.next, v.prev = v.next+1, e.Hash
	}
	p.legacy = v.legacy
	return p, nil
}

// deletePruned deletes exactly the exported entries, if nothing changed
// since they were read, and records the checkpoint.
func (l *Ledger) deletePruned(tx *bbolt.Tx, p prunable, cp Checkpoint) error {
	b, err := l.buckets(tx)
	if err != nil {
		return err
	}
	if now, _, err := readCheckpoint(b); err != nil || now.Seq != p.from.Seq {
		return errors.New("the ledger was pruned concurrently")
	}
	for i, e := range p.entries {
		// Compared as plaintext: a key rotation may have re-sealed it meanwhile.
		if _, now, err := b.entry(seqKey(e.Seq), b.entries.Get(seqKey(e.Seq))); err != nil || !bytes.Equal(now, p.raw[i]) {
			return fmt.Errorf("seq %d changed while it was exported", e.Seq)
		}
		if err := b.entries.Delete(seqKey(e.Seq)); err != nil {
			return err
		}
		if err := deleteIndexKeys(b, &e); err != nil {
			return err
		}
	}
	if err := deleteLegacyKeys(b, p.legacy); err != nil {
		return err
	}
	return writeCheckpoint(b, cp)
}

// deleteLegacyKeys removes the keys left at the positions of pruned legacy
// entries: those of values indexed by bytes the entry no longer holds
// (verifier.inIndexes), which deleteIndexKeys cannot name. Only a ledger
// that holds such entries pays for the scan of its keyed indexes.
func deleteLegacyKeys(b buckets, legacy map[uint64]uint64) error {
	if len(legacy) == 0 {
		return nil
	}
	for _, ix := range indexes {
		if !ix.keyed {
			continue
		}
		bk, err := b.ix(ix)
		if err != nil {
			return err
		}
		var stale [][]byte // collected first: bbolt cursors do not survive deletes
		c := bk.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if isLegacyKey(k, legacy) {
				stale = append(stale, bytes.Clone(k))
			}
		}
		for _, k := range stale {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExportName is the name of the prune export holding seqs first to last:
// zero-padded, so that name order is chain order.
func ExportName(first, last uint64) string {
	return fmt.Sprintf("ledger-%020d-%020d.ndjson", first, last)
}

// ParseExportName returns the seqs an export's file name (its base name)
// says it holds, or false for a name ExportName does not write.
func ParseExportName(name string) (first, last uint64, ok bool) {
	var tail string
	if n, err := fmt.Sscanf(name, "ledger-%020d-%020d.%s", &first, &last, &tail); err != nil || n != 3 || tail != "ndjson" || ExportName(first, last) != name {
		return 0, 0, false
	}
	return first, last, true
}

// removeUnfinishedExports removes the exports in dir that start after the
// checkpoint seq: written by a prune round whose delete did not commit
// (it failed, or ds4p stopped between the two), so the entries they hold
// are still in the ledger, beyond the checkpoint.
func removeUnfinishedExports(dir string, checkpoint uint64) error {
	files, err := filepath.Glob(filepath.Join(dir, "ledger-*.ndjson"))
	if err != nil {
		return err
	}
	removed := false
	for _, f := range files {
		if first, _, ok := ParseExportName(filepath.Base(f)); ok && first > checkpoint {
			if err := os.Remove(f); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}

// writeExport writes lines as NDJSON to dir/name durably: a temporary file,
// fsynced, renamed into place, and the directory fsynced. It returns the
// hex SHA-256 of the file.
func writeExport(dir, name string, lines [][]byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, name+".*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	h := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, h))
	for _, line := range lines {
		_, _ = w.Write(line)
		_ = w.WriteByte('\n')
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	if err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), syncDir(dir)
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
