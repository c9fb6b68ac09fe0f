package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// at is the time of sample entry i.
func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// TestPrune prunes the first ten of twenty entries and checks the export
// file, the checkpoint, the indexes, and that the chain still verifies and
// grows.
func TestPrune(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 20)
	dir := filepath.Join(t.TempDir(), "exports")
	res, err := l.Prune(t.Context(), at(11), dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pruned != 10 || len(res.Files) != 1 || res.Checkpoint.Seq != 10 {
		t.Fatalf("Prune = %+v", res)
	}
	f, err := os.Open(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	end, n, err := VerifyNDJSON(f, Checkpoint{Hash: GenesisHash})
	if err != nil || n != 10 || end.Seq != 10 || end.Hash != res.Checkpoint.Hash {
		t.Fatalf("VerifyNDJSON(export) = %+v, %d, %v; checkpoint %+v", end, n, err, res.Checkpoint)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 10 {
		t.Fatalf("Verify after pruning = %d, %v", n, err)
	}
	if got := seqs(findAll(t, l, Query{Patient: "Patient/a"})); fmt.Sprint(got) != "[11 13 15 17 19]" {
		t.Errorf("patient a after pruning = %v", got)
	}
	if res, err := l.Prune(t.Context(), at(11), dir); err != nil || res.Pruned != 0 {
		t.Errorf("pruning again = %+v, %v", res, err)
	}
	if err := l.Append(t.Context(), sample(21, "Patient/a")); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 11 {
		t.Errorf("Verify after an append = %d, %v", n, err)
	}
}

// TestPruneStopsAtFirstRecentEntry checks that the pruned part is a prefix
// of the chain: an old entry after a recent one stays.
func TestPruneStopsAtFirstRecentEntry(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	for i, m := range []int{1, 2, 30, 3, 4} {
		e := sample(i+1, "Patient/a")
		e.Time = at(m)
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	res, err := l.Prune(t.Context(), at(10), t.TempDir())
	if err != nil || res.Pruned != 2 {
		t.Fatalf("Prune = %+v, %v; want 2 pruned", res, err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 3 {
		t.Errorf("Verify = %d, %v", n, err)
	}
}

// TestPruneAllThenRounds prunes everything in several rounds and checks
// that the exports chain from genesis to the checkpoint.
func TestPruneAllThenRounds(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 30)
	dir := t.TempDir()
	if _, err := l.Prune(t.Context(), at(8), dir); err != nil {
		t.Fatal(err)
	}
	res, err := l.Prune(t.Context(), at(1000), dir)
	if err != nil || res.Pruned != 23 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 0 {
		t.Fatalf("Verify of an emptied ledger = %d, %v", n, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ledger-*.ndjson"))
	cp := Checkpoint{Hash: GenesisHash}
	for _, name := range files {
		b, _ := os.ReadFile(name)
		var err error
		if cp, _, err = VerifyNDJSON(bytes.NewReader(b), cp); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if stored, _ := l.Checkpoint(t.Context()); cp.Seq != 30 || cp.Hash != stored.Hash {
		t.Errorf("exports end at %d %s, checkpoint %+v", cp.Seq, cp.Hash, stored)
	}
	if err := l.Append(t.Context(), sample(31, "Patient/a")); err != nil {
		t.Fatal(err)
	}
	if got := findAll(t, l, Query{}); len(got) != 1 || got[0].Seq != 31 || got[0].PrevHash != cp.Hash {
		t.Errorf("after pruning all, the next entry is %+v", got)
	}
}

// TestPruneRefusesBrokenChain checks that a tampered entry is never
// exported and deleted.
func TestPruneRefusesBrokenChain(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 10)
	tamper(t, l, func(t *testing.T, b buckets) { editEntry(t, b, 4, "req-004", "req-XYZ") })
	_, err := l.Prune(t.Context(), at(8), t.TempDir())
	var broken *BrokenError
	if !errors.As(err, &broken) || broken.Seq != 4 {
		t.Fatalf("Prune of a broken chain = %v", err)
	}
	if got := findAll(t, l, Query{}); len(got) != 10 {
		t.Errorf("%d entries left, want 10", len(got))
	}
}

// TestVerifyAfterPruneDetectsTampering checks the walk from the checkpoint.
func TestVerifyAfterPruneDetectsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, b buckets, pruned []byte)
		seq    uint64
	}{
		{"delete the first entry after the checkpoint", func(t *testing.T, b buckets, _ []byte) {
			mustDelete(t, b.entries, seqKey(6))
		}, 6},
		{"put a pruned entry back", func(t *testing.T, b buckets, pruned []byte) {
			mustPut(t, b.entries, seqKey(5), pruned)
		}, 5},
		{"move the checkpoint", func(t *testing.T, b buckets, _ []byte) {
			v := b.meta.Get(checkpointKey)
			mustPut(t, b.meta, checkpointKey, bytes.Replace(v, []byte(`"seq":5`), []byte(`"seq":4`), 1))
		}, 5},
		{"alter the checkpoint's hash", func(t *testing.T, b buckets, _ []byte) {
			cp, _, _ := readCheckpoint(b)
			v := bytes.Replace(b.meta.Get(checkpointKey), []byte(cp.Hash), []byte(GenesisHash), 1)
			mustPut(t, b.meta, checkpointKey, v)
		}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			appendSamples(t, l, 10)
			var pruned []byte
			tamper(t, l, func(t *testing.T, b buckets) { pruned = bytes.Clone(b.entries.Get(seqKey(5))) })
			if _, err := l.Prune(t.Context(), at(6), t.TempDir()); err != nil {
				t.Fatal(err)
			}
			tamper(t, l, func(t *testing.T, b buckets) { tt.tamper(t, b, pruned) })
			_, err := l.Verify(t.Context())
			var broken *BrokenError
			if !errors.As(err, &broken) || broken.Seq != tt.seq {
				t.Errorf("Verify = %v, want broken at seq %d", err, tt.seq)
			}
		})
	}
}

// TestExportVerifyNDJSON checks that a full export verifies and that an
// altered, dropped or swapped line is found at its seq.
func TestExportVerifyNDJSON(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 8)
	var buf bytes.Buffer
	if n, err := l.Export(t.Context(), time.Time{}, time.Time{}, &buf); err != nil || n != 8 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if _, n, err := VerifyNDJSON(bytes.NewReader(buf.Bytes()), Checkpoint{Hash: GenesisHash}); err != nil || n != 8 {
		t.Fatalf("VerifyNDJSON = %d, %v", n, err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n")
	edits := map[string]struct {
		lines []string
		seq   uint64
	}{
		"altered": {append(append(append([]string{}, lines[:2]...), strings.Replace(lines[2], "req-003", "req-333", 1)), lines[3:]...), 3},
		"dropped": {append(append([]string{}, lines[:4]...), lines[5:]...), 5},
		"swapped": {append(append(append([]string{}, lines[:1]...), lines[2], lines[1]), lines[3:]...), 2},
	}
	for name, ed := range edits {
		_, _, err := VerifyNDJSON(strings.NewReader(strings.Join(ed.lines, "")), Checkpoint{Hash: GenesisHash})
		var broken *BrokenError
		if !errors.As(err, &broken) || broken.Seq != ed.seq {
			t.Errorf("%s: VerifyNDJSON = %v, want broken at %d", name, err, ed.seq)
		}
	}
	buf.Reset()
	if n, err := l.Export(t.Context(), at(3), at(5), &buf); err != nil || n != 2 || !strings.Contains(buf.String(), "req-004") {
		t.Errorf("Export of a time range = %d, %v: %s", n, err, buf.String())
	}
}

// TestVerifyWhilePruning prunes between two chunks of a Verify walk and
// checks that the walk continues from the new checkpoint.
func TestVerifyWhilePruning(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.verifyChunk = 3
	appendSamples(t, l, 12)
	dir := t.TempDir()
	l.afterVerifyChunk = func() {
		if _, err := l.Prune(t.Context(), at(9), dir); err != nil {
			t.Error(err)
		}
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 12 {
		t.Fatalf("Verify while pruning = %d, %v; want 12 (3 checked, 5 pruned, 4 checked)", n, err)
	}
	l.afterVerifyChunk = nil
	if n, err := l.Verify(t.Context()); err != nil || n != 4 {
		t.Errorf("Verify after the prune = %d, %v", n, err)
	}
}

// TestPruneCheckpointTimeIsTheLatest: an entry's time is when its request
// arrived, so a later seq can carry an earlier time; the checkpoint's time
// is the latest of the pruned entries' (and of earlier rounds'), so an
// accounting from between the last pruned seq's time and a pruned entry's
// later time still says it reaches into pruned entries (QA round 19).
func TestPruneCheckpointTimeIsTheLatest(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	for i, m := range []int{1, 5, 3, 20} {
		e := sample(i+1, "Patient/a")
		e.Time = at(m)
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	res, err := l.Prune(t.Context(), at(10), t.TempDir())
	if err != nil || res.Pruned != 3 || res.Checkpoint.Seq != 3 {
		t.Fatalf("Prune = %+v, %v; want seq 1-3 pruned", res, err)
	}
	if !res.Checkpoint.Time.Equal(at(5)) {
		t.Errorf("checkpoint time %s, want %s (seq 2's, the latest pruned)", res.Checkpoint.Time, at(5))
	}
	cp, err := l.Checkpoint(t.Context())
	if err != nil || !cp.Time.Equal(at(5)) {
		t.Errorf("stored checkpoint %+v, %v; want time %s", cp, err, at(5))
	}
}
