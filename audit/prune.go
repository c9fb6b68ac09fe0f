package audit

import (
	"bufio"
	"bytes"
	"context"
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
	// Time is the last pruned entry's time; PrunedAt when it was pruned.
	Time     time.Time `json:"time"`
	PrunedAt time.Time `json:"pruned_at"`
	// Export is the file name (in the export directory) of the last
	// export, and ExportSHA256 the hex SHA-256 of its bytes.
	Export       string `json:"export"`
	ExportSHA256 string `json:"export_sha256"`
}

// readCheckpoint returns the prune checkpoint, or the genesis one.
func readCheckpoint(meta *bbolt.Bucket) (Checkpoint, error) {
	v := meta.Get(checkpointKey)
	if v == nil {
		return Checkpoint{Hash: GenesisHash}, nil
	}
	var cp Checkpoint
	if err := json.Unmarshal(v, &cp); err != nil || len(cp.Hash) != len(GenesisHash) {
		return Checkpoint{}, errors.New("the prune checkpoint does not decode")
	}
	return cp, nil
}

// Checkpoint returns the prune checkpoint (Seq 0 when nothing was pruned).
func (l *Ledger) Checkpoint(ctx context.Context) (cp Checkpoint, err error) {
	if err := ctx.Err(); err != nil {
		return cp, err
	}
	err = l.view(ctx, func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		cp, err = readCheckpoint(b.meta)
		return err
	})
	return cp, err
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
	name := fmt.Sprintf("ledger-%020d-%020d.ndjson", p.entries[0].Seq, last.Seq)
	sum, err := writeExport(dir, name, p.raw)
	if err != nil {
		return 0, "", Checkpoint{}, fmt.Errorf("writing the export: %w", err)
	}
	cp := Checkpoint{Seq: last.Seq, Hash: last.Hash, Time: last.Time, PrunedAt: l.now().UTC(), Export: name, ExportSHA256: sum}
	if err := l.db.Update(func(tx *bbolt.Tx) error { return l.deletePruned(tx, p, cp) }); err != nil {
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
	cp, err := readCheckpoint(b.meta)
	if err != nil {
		return prunable{}, err
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
	return p, nil
}

// deletePruned deletes exactly the exported entries, if nothing changed
// since they were read, and records the checkpoint.
func (l *Ledger) deletePruned(tx *bbolt.Tx, p prunable, cp Checkpoint) error {
	b, err := l.buckets(tx)
	if err != nil {
		return err
	}
	if now, err := readCheckpoint(b.meta); err != nil || now.Seq != p.from.Seq {
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
	v, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return b.meta.Put(checkpointKey, v)
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
