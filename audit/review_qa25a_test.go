package audit

import (
	"encoding/binary"
	"testing"

	"go.etcd.io/bbolt"
)

// TestReviewsForIgnoresMovedIndexKey: by_entry keys are plaintext even in
// an encrypted store (only seqs), so someone able to write the file but
// without the storage key could add <entry 3><review 1> beside the real
// <entry 2><review 1>: For then answered review 1 (of entry 2) as a
// review of entry 3, and the console's queue of unreviewed
// break-the-glass disclosures dropped entry 3. A review counts for an
// entry only when its own sealed record names that entry (and is the
// review the key names).
func TestReviewsForIgnoresMovedIndexKey(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		db := openDB(t)
		var lopts []Option
		var opts []ReviewsOption
		if sealed {
			s := openSealer(t, db, testKey(t, true))
			lopts, opts = []Option{WithSealer(s)}, []ReviewsOption{ReviewsWithSealer(s)}
		}
		l, err := Open(db, lopts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		appendSamples(t, l, 3)
		rs, err := OpenReviews(db, opts...)
		if err != nil {
			t.Fatal(err)
		}
		h2, _, err := l.HashAt(t.Context(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rs.Add(t.Context(), Review{EntrySeq: 2, EntryHash: h2, Reviewer: "auditor"}); err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bbolt.Tx) error {
			_, byEntry, err := reviewBuckets(tx)
			if err != nil {
				return err
			}
			return byEntry.Put(binary.BigEndian.AppendUint64(seqKey(3), 1), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := rs.For(t.Context(), []uint64{2, 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(got[3]) != 0 || len(got[2]) != 1 {
			t.Errorf("sealed=%v: For after a by_entry key naming review 1 (of entry 2) for entry 3 = %+v; want entry 3 unreviewed, entry 2 reviewed once", sealed, got)
		}
	}
}
