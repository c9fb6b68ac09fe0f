package audit

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// TestAuthenticatedCheckpointTimeIsTheExports (QA round 41, area C): an
// encrypted ledger's checkpoint without a MAC (an older ds4p's) whose time
// was set back, by someone able to write the file, is authenticated by
// AuthenticateCheckpoint with the time the exports show, not the stored
// one. Only its seq and hash were compared with the exports, so the MAC
// then vouched for a time before the pruned entries, and an accounting
// from between the two carried no pruned note (proxy prunedThrough,
// ds4p audit report) while those disclosures were missing from it. An
// honest checkpoint of a release before the MAC (2026-12-04) records the
// last pruned seq's time, which may be before the latest pruned entry's
// (dd1adc7, 2026-12-05): the same gap.
func TestAuthenticatedCheckpointTimeIsTheExports(t *testing.T) {
	t.Parallel()
	_, l, _ := newLedgerMaybeSealed(t, true)
	appendSamples(t, l, 10)
	dir := t.TempDir()
	res, err := l.Prune(t.Context(), at(6), dir)
	if err != nil || res.Pruned != 5 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	latest := res.Checkpoint.Time // at(5)
	forged := res.Checkpoint
	forged.Time = latest.Add(-365 * 24 * time.Hour)
	tamper(t, l, func(t *testing.T, b buckets) {
		v, _ := json.Marshal(forged)
		mustPut(t, b.meta, checkpointKey, v)
		mustDelete(t, b.meta, checkpointMACKey) // as an older ds4p wrote it
	})
	f, err := os.Open(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	proven, _, err := l.VerifyNDJSON(f, Checkpoint{Hash: GenesisHash})
	if err != nil {
		t.Fatal(err)
	}
	if !proven.Time.Equal(latest) {
		t.Errorf("the exports' checkpoint time = %v, want the latest exported entry's, %v", proven.Time, latest)
	}
	if err := l.AuthenticateCheckpoint(t.Context(), proven); err != nil {
		t.Fatal(err)
	}
	cp, err := l.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cp.Time.Before(latest) {
		t.Errorf("authenticated checkpoint time = %v, before the latest pruned entry (%v): an accounting from %v on gets no pruned note",
			cp.Time, latest, cp.Time.Add(time.Minute))
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 5 {
		t.Errorf("Verify after authenticating = %d, %v", n, err)
	}
}

// TestAuthenticatedLegacyCheckpointTime: a checkpoint of a release before
// the MAC records the last pruned seq's time; an earlier seq's may be
// later (an entry's time is when its request arrived). The exports'
// checkpoint carries the latest, and so does the one authenticated.
func TestAuthenticatedLegacyCheckpointTime(t *testing.T) {
	t.Parallel()
	_, l, _ := newLedgerMaybeSealed(t, true)
	for i, m := range []int{1, 5, 2, 3, 10, 11} {
		if err := l.Append(t.Context(), sample(m, "Patient/a")); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	settle(t, l)
	res, err := l.Prune(t.Context(), at(6), t.TempDir())
	if err != nil || res.Pruned != 4 || !res.Checkpoint.Time.Equal(at(5)) {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	legacy := res.Checkpoint
	legacy.Time = at(3) // the last pruned seq's, as releases before dd1adc7 wrote it
	tamper(t, l, func(t *testing.T, b buckets) {
		v, _ := json.Marshal(legacy)
		mustPut(t, b.meta, checkpointKey, v)
		mustDelete(t, b.meta, checkpointMACKey)
	})
	f, err := os.Open(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	proven, _, err := l.VerifyNDJSON(f, Checkpoint{Hash: GenesisHash})
	if err != nil || !proven.Time.Equal(at(5)) {
		t.Fatalf("the exports' checkpoint = %+v, %v; want the time %v", proven, err, at(5))
	}
	if err := l.AuthenticateCheckpoint(t.Context(), proven); err != nil {
		t.Fatal(err)
	}
	if cp, err := l.Checkpoint(t.Context()); err != nil || !cp.Time.Equal(at(5)) {
		t.Errorf("authenticated checkpoint = %+v, %v; want the time %v", cp, err, at(5))
	}
}
