package audit

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

func TestReviewsAddAndFor(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 3)
	rs, err := OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	rs.now = func() time.Time { return at }
	h2, _, err := l.HashAt(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	first, err := rs.Add(t.Context(), Review{EntrySeq: 2, EntryHash: h2, Reviewer: "auditor", Note: "justified"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := rs.Add(t.Context(), Review{EntrySeq: 2, EntryHash: h2, Reviewer: "auditor2"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || second.Seq != 2 || !first.Time.Equal(at) {
		t.Fatalf("seqs/time not assigned: %+v %+v", first, second)
	}
	got, err := rs.For(t.Context(), []uint64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[2]) != 2 || got[2][0].Note != "justified" || got[2][1].Reviewer != "auditor2" {
		t.Fatalf("For = %+v", got)
	}
	// The ledger's own verification ignores the review bucket.
	if n, err := l.Verify(t.Context()); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestReviewsRefuseBadRecords(t *testing.T) {
	t.Parallel()
	rs, err := OpenReviews(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("a", 64)
	for name, r := range map[string]Review{
		"no seq":      {EntryHash: hash, Reviewer: "a"},
		"short hash":  {EntrySeq: 1, EntryHash: "abc", Reviewer: "a"},
		"upper hash":  {EntrySeq: 1, EntryHash: strings.Repeat("A", 64), Reviewer: "a"},
		"no reviewer": {EntrySeq: 1, EntryHash: hash, Reviewer: " "},
		"long note":   {EntrySeq: 1, EntryHash: hash, Reviewer: "a", Note: strings.Repeat("x", MaxReviewNote+1)},
	} {
		if _, err := rs.Add(t.Context(), r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	got, err := rs.For(t.Context(), []uint64{1})
	if err != nil || len(got) != 0 {
		t.Fatalf("refused reviews were stored: %v %v", got, err)
	}
}

func TestReviewsSurviveReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Add(t.Context(), Review{EntrySeq: 7, EntryHash: strings.Repeat("0", 64), Reviewer: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err = OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rs.For(t.Context(), []uint64{7})
	if err != nil || len(got[7]) != 1 || got[7][0].Reviewer != "a" {
		t.Fatalf("after reopen: %v %v", got, err)
	}
}

// TestReviewsSealed writes a review and counters in plaintext, reopens the
// store with a sealer (as serve does once encryption is on): the old values
// are sealed on open, new ones sealed as written, all read back, the file
// (its live pages) holds none of the notes or counters in plaintext, and without the sealer
// the encrypted store is refused.
func TestReviewsSealed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	hash := strings.Repeat("cd", 32)
	plain, err := OpenReviews(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Add(t.Context(), Review{EntrySeq: 4, EntryHash: hash, Reviewer: "auditor-vexley", Note: "zq-old-note"}); err != nil {
		t.Fatal(err)
	}
	if err := plain.SaveCounters(t.Context(), "chart", []byte("zq-old-counters")); err != nil {
		t.Fatal(err)
	}
	sealer := openSealer(t, db, testKey(t, true))
	if _, err := OpenReviews(db); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("OpenReviews without the sealer on an encrypted store = %v", err)
	}
	rs, err := OpenReviews(db, ReviewsWithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Add(t.Context(), Review{EntrySeq: 4, EntryHash: hash, Reviewer: "auditor-vexley", Note: "zq-new-note"}); err != nil {
		t.Fatal(err)
	}
	got, err := rs.For(t.Context(), []uint64{4})
	if err != nil || len(got[4]) != 2 || got[4][0].Note != "zq-old-note" || got[4][1].Note != "zq-new-note" {
		t.Fatalf("For = %+v, %v", got, err)
	}
	if blob, err := rs.LoadCounters(t.Context(), "chart"); err != nil || string(blob) != "zq-old-counters" {
		t.Fatalf("LoadCounters = %q, %v", blob, err)
	}
	c, err := seal.Count(db, ReviewSealedBuckets)
	if err != nil || c.Plain != 0 || c.ByKey[sealer.Keyring().Active()] != 4 { // 3 values and the secret
		t.Fatalf("Count = %+v, %v", c, err)
	}
	// bbolt leaves the pages the plaintext values were freed from as they
	// were; scan the live pages, copied as a backup (or keys compact) would.
	live := filepath.Join(t.TempDir(), "live.db")
	dst := openFile(t, live)
	if err := bbolt.Compact(dst, db, 0); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoPlaintext(t, live, []string{"zq-old-note", "zq-new-note", "auditor-vexley", "zq-old-counters"})
}
