package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// forgeCheckpoint does what someone able to write the file but without
// the storage key can: delete entries 1..through with their index keys and
// write a checkpoint naming the hash of entry through (as SIEM exports,
// /admin/audit and the console show it).
func forgeCheckpoint(t *testing.T, l *Ledger, through uint64) {
	t.Helper()
	hash, ok, err := l.HashAt(t.Context(), through)
	if err != nil || !ok {
		t.Fatalf("HashAt(%d) = %v, %v", through, ok, err)
	}
	tamper(t, l, func(t *testing.T, b buckets) {
		for seq := uint64(1); seq <= through; seq++ {
			e, err := b.entryAt(seq)
			if err != nil {
				t.Fatal(err)
			}
			if err := deleteIndexKeys(b, &e); err != nil {
				t.Fatal(err)
			}
			mustDelete(t, b.entries, seqKey(seq))
		}
		v, _ := json.Marshal(Checkpoint{Seq: through, Hash: hash, Time: at(int(through))})
		mustPut(t, b.meta, checkpointKey, v)
	})
}

// TestForgedCheckpoint: the oldest entries deleted and a checkpoint
// written after them. An encrypted ledger refuses the checkpoint (no MAC
// under its key) in Verify, Checkpoint, the accounting and Prune, and a
// made-up MAC is an altered checkpoint; a plaintext ledger cannot tell
// (README: only the exports or an off-host head can) and says so through
// CheckpointPlaintext.
func TestForgedCheckpoint(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		_, l, _ := newLedgerMaybeSealed(t, sealed)
		appendSamples(t, l, 12)
		if _, err := l.Verify(t.Context()); err != nil { // indexes them all
			t.Fatal(err)
		}
		forgeCheckpoint(t, l, 6)
		res, err := l.VerifyWith(t.Context(), VerifyOptions{})
		if !sealed {
			if err != nil || res.N != 6 || res.CheckpointAuth != CheckpointPlaintext {
				t.Errorf("plaintext: Verify = %+v, %v; want 6 entries from a plaintext checkpoint", res, err)
			}
			continue
		}
		if !errors.Is(err, ErrCheckpointUnauthenticated) || res.N != 0 {
			t.Errorf("Verify of a forged checkpoint = %+v, %v; want ErrCheckpointUnauthenticated", res, err)
		}
		if _, err := l.Checkpoint(t.Context()); !errors.Is(err, ErrCheckpointUnauthenticated) {
			t.Errorf("Checkpoint = %v", err)
		}
		if _, _, err := l.Accounting(t.Context(), "Patient/a", time.Time{}, time.Time{}); !errors.Is(err, ErrCheckpointUnauthenticated) {
			t.Errorf("Accounting = %v", err)
		}
		if _, err := l.Prune(t.Context(), at(100), t.TempDir()); !errors.Is(err, ErrCheckpointUnauthenticated) {
			t.Errorf("Prune from a forged checkpoint = %v", err)
		}
		if _, ok, _ := l.HashAt(t.Context(), 6); ok {
			t.Error("HashAt answers with the forged checkpoint's hash")
		}
		tamper(t, l, func(t *testing.T, b buckets) { mustPut(t, b.meta, checkpointMACKey, bytes.Repeat([]byte{7}, 32)) })
		var broken *BrokenError
		if _, err := l.Verify(t.Context()); !errors.As(err, &broken) || broken.Seq != 6 {
			t.Errorf("Verify with a made-up MAC = %v; want broken at seq 6", err)
		}
	}
}

// TestLegacyCheckpoint: an encrypted ledger pruned by a ds4p that wrote no
// checkpoint MAC. Verify refuses it until the exports vouch for it, and
// AuthenticateCheckpoint records that; a checkpoint Prune writes now is
// authenticated, and so is one a plaintext prune wrote when Open encrypts
// the ledger.
func TestLegacyCheckpoint(t *testing.T) {
	t.Parallel()
	_, l, _ := newLedgerMaybeSealed(t, true)
	appendSamples(t, l, 10)
	dir := t.TempDir()
	res, err := l.Prune(t.Context(), at(6), dir)
	if err != nil || res.Pruned != 5 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	if r, err := l.VerifyWith(t.Context(), VerifyOptions{}); err != nil || r.N != 5 || r.CheckpointAuth != CheckpointAuthenticated {
		t.Fatalf("Verify after a prune = %+v, %v", r, err)
	}
	tamper(t, l, func(t *testing.T, b buckets) { mustDelete(t, b.meta, checkpointMACKey) })
	if _, err := l.Verify(t.Context()); !errors.Is(err, ErrCheckpointUnauthenticated) {
		t.Fatalf("Verify of a checkpoint without MAC = %v", err)
	}
	f, err := os.Open(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	proven, _, err := l.VerifyNDJSON(f, Checkpoint{Hash: GenesisHash})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.VerifyWith(t.Context(), VerifyOptions{Proven: &proven}); err != nil || r.N != 5 || r.CheckpointAuth != CheckpointUnauthenticated {
		t.Errorf("Verify with the exports vouching = %+v, %v", r, err)
	}
	wrong := proven
	wrong.Seq = 4
	if _, err := l.VerifyWith(t.Context(), VerifyOptions{Proven: &wrong}); !errors.Is(err, ErrCheckpointUnauthenticated) {
		t.Errorf("Verify with another checkpoint vouched for = %v", err)
	}
	if err := l.AuthenticateCheckpoint(t.Context(), wrong); err == nil {
		t.Error("AuthenticateCheckpoint of another checkpoint succeeded")
	}
	if err := l.AuthenticateCheckpoint(t.Context(), proven); err != nil {
		t.Fatal(err)
	}
	if r, err := l.VerifyWith(t.Context(), VerifyOptions{}); err != nil || r.N != 5 || r.CheckpointAuth != CheckpointAuthenticated {
		t.Errorf("Verify after AuthenticateCheckpoint = %+v, %v", r, err)
	}

	// Pruned in plaintext, then encrypted.
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	plain, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, plain, 10)
	if _, err := plain.Prune(t.Context(), at(4), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	_ = plain.Close()
	enc, err := Open(db, WithSealer(openSealer(t, db, testKey(t, true))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = enc.Close(); _ = db.Close() }()
	if r, err := enc.VerifyWith(t.Context(), VerifyOptions{}); err != nil || r.N != 7 || r.CheckpointAuth != CheckpointAuthenticated {
		t.Errorf("Verify after encrypting a pruned ledger = %+v, %v", r, err)
	}
}

// TestCheckpointMinRetention: with a minimum retention, a checkpoint whose
// last pruned entry is younger than it allows is refused by Verify,
// Checkpoint and the accounting; once old enough it is accepted.
func TestCheckpointMinRetention(t *testing.T) {
	t.Parallel()
	now := at(5).Add(time.Hour)
	l := newLedger(t, WithMinRetention(Day), WithClock(func() time.Time { return now }))
	appendSamples(t, l, 10)
	if _, err := l.Prune(t.Context(), at(6), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Verify(t.Context()); !errors.Is(err, ErrCheckpointTooRecent) {
		t.Errorf("Verify of a checkpoint an hour old under a day's retention = %v", err)
	}
	if _, err := l.Checkpoint(t.Context()); !errors.Is(err, ErrCheckpointTooRecent) {
		t.Errorf("Checkpoint = %v", err)
	}
	if _, _, err := l.Accounting(t.Context(), "Patient/a", time.Time{}, time.Time{}); !errors.Is(err, ErrCheckpointTooRecent) {
		t.Errorf("Accounting = %v", err)
	}
	now = at(5).Add(Day + time.Minute)
	if n, err := l.Verify(t.Context()); err != nil || n != 5 {
		t.Errorf("Verify a day later = %d, %v", n, err)
	}
}
