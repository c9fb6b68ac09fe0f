package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestVerifyDetectsTampering alters a ten-entry ledger behind the Ledger's
// back and checks that Verify names the first broken seq.
func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, b buckets)
		seq    uint64
	}{
		{"flip one byte", func(t *testing.T, b buckets) {
			v := bytes.Clone(b.entries.Get(seqKey(5)))
			v[len(v)/2] ^= 0x01
			mustPut(t, b.entries, seqKey(5), v)
		}, 5},
		{"edit a value", func(t *testing.T, b buckets) {
			editEntry(t, b, 5, "req-005", "req-XYZ")
		}, 5},
		{"reformat without changing meaning", func(t *testing.T, b buckets) {
			editEntry(t, b, 5, `"seq":5,`, `"seq": 5,`)
		}, 5},
		{"delete an entry", func(t *testing.T, b buckets) {
			mustDelete(t, b.entries, seqKey(5))
		}, 5},
		{"delete the newest entry", func(t *testing.T, b buckets) {
			mustDelete(t, b.entries, seqKey(10))
		}, 10},
		{"swap two entries", func(t *testing.T, b buckets) {
			v3, v4 := bytes.Clone(b.entries.Get(seqKey(3))), bytes.Clone(b.entries.Get(seqKey(4)))
			mustPut(t, b.entries, seqKey(3), v4)
			mustPut(t, b.entries, seqKey(4), v3)
		}, 3},
		{"insert a well-chained entry without the head", func(t *testing.T, b buckets) {
			appendForged(t, b, 11)
		}, 11},
		{"insert an entry before the first", func(t *testing.T, b buckets) {
			mustPut(t, b.entries, seqKey(0), b.entries.Get(seqKey(1)))
		}, 0},
		{"hide an entry from the patient index", func(t *testing.T, b buckets) {
			mustDelete(t, mustIx(t, b, byPatient), byPatient.key(codec{}, "Patient/b", timeKey(t0.Add(6*time.Minute)), 6))
		}, 6},
		{"hide an entry from the time index", func(t *testing.T, b buckets) {
			mustDelete(t, mustIx(t, b, byTime), byTime.key(codec{}, "", timeKey(t0.Add(4*time.Minute)), 4))
		}, 4},
		{"add a stray patient index key", func(t *testing.T, b buckets) {
			mustPut(t, mustIx(t, b, byPatient), byPatient.key(codec{}, "Patient/c", timeKey(t0), 7), nil)
		}, 7},
		{"add a stray break-glass index key", func(t *testing.T, b buckets) {
			mustPut(t, mustIx(t, b, byBreakGlass), byBreakGlass.key(codec{}, "", timeKey(t0), 8), nil)
		}, 8},
		{"rewrite the head", func(t *testing.T, b buckets) {
			mustPut(t, b.head, headKey, append(seqKey(10), GenesisHash...))
		}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			appendSamples(t, l, 10)
			if n, err := l.Verify(t.Context()); err != nil || n != 10 {
				t.Fatalf("Verify before tampering = %d, %v", n, err)
			}
			tamper(t, l, tt.tamper)
			_, err := l.Verify(t.Context())
			var broken *BrokenError
			if !errors.As(err, &broken) {
				t.Fatalf("Verify error = %v, want a *BrokenError", err)
			}
			t.Log(err)
			if broken.Seq != tt.seq {
				t.Errorf("Verify names seq %d (%v), want %d", broken.Seq, err, tt.seq)
			}
		})
	}
}

// tamper runs fn on the ledger's buckets in a write transaction.
func tamper(t *testing.T, l *Ledger, fn func(*testing.T, buckets)) {
	t.Helper()
	err := l.db.Update(func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		fn(t, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// editEntry replaces old with new in the stored entry seq.
func editEntry(t *testing.T, b buckets, seq uint64, old, new string) {
	t.Helper()
	v := b.entries.Get(seqKey(seq))
	if !bytes.Contains(v, []byte(old)) {
		t.Fatalf("entry %d lacks %q: %s", seq, old, v)
	}
	mustPut(t, b.entries, seqKey(seq), bytes.Replace(v, []byte(old), []byte(new), 1))
}

// appendForged stores a correctly chained entry at seq without touching the
// head, as someone rewriting the file might.
func appendForged(t *testing.T, b buckets, seq uint64) {
	t.Helper()
	prev, err := decodeEntry(b.entries.Get(seqKey(seq - 1)))
	if err != nil {
		t.Fatal(err)
	}
	e := canonical(sample(int(seq), "Patient/a"))
	e.Seq, e.PrevHash = seq, prev.Hash
	v, err := link(&e, sha256.New)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, b.entries, seqKey(seq), v)
	if err := putIndexKeys(b, &e); err != nil {
		t.Fatal(err)
	}
}

// mustPut puts k → v in b.
func mustPut(t *testing.T, b *bbolt.Bucket, k, v []byte) {
	t.Helper()
	if err := b.Put(k, v); err != nil {
		t.Fatal(err)
	}
}

// mustDelete deletes k from b.
func mustDelete(t *testing.T, b *bbolt.Bucket, k []byte) {
	t.Helper()
	if err := b.Delete(k); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyEmpty checks that an empty ledger verifies.
func TestVerifyEmpty(t *testing.T) {
	t.Parallel()
	if n, err := newLedger(t).Verify(t.Context()); n != 0 || err != nil {
		t.Errorf("Verify = %d, %v; want 0, nil", n, err)
	}
}

// TestVerifyDamagedFile: bbolt panics on a page whose header names another
// page; Verify, which the console runs in a goroutine of its own, reports
// a broken chain instead of ending the process.
func TestVerifyDamagedFile(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := l.Append(t.Context(), sample(i, "Patient/a")); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil { // everything journaled is in bbolt
		t.Fatal(err)
	}
	b, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	ps, damaged := db.Info().PageSize, 0
	for off := 2 * ps; off+16 <= len(b); off += ps {
		if flags := binary.LittleEndian.Uint16(b[off+8:]); flags == 0x01 || flags == 0x02 {
			binary.LittleEndian.PutUint64(b[off:], binary.LittleEndian.Uint64(b[off:])+1000)
			damaged++
		}
	}
	if damaged == 0 {
		t.Fatal("no branch or leaf page to damage")
	}
	// bbolt reads through a shared mapping: the open database sees this.
	if err := os.WriteFile(db.Path(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = l.Verify(t.Context())
	var be *BrokenError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "the database file is damaged") {
		t.Errorf("Verify of a damaged file = %v, want a broken chain naming the damaged file", err)
	}
}

// TestVerifyAcrossChunks checks a chain longer than one read transaction,
// with the chunk made small.
func TestVerifyAcrossChunks(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.verifyChunk = 4
	appendSamples(t, l, 11)
	if n, err := l.Verify(t.Context()); err != nil || n != 11 {
		t.Fatalf("Verify = %d, %v; want 11", n, err)
	}
	for _, seq := range []uint64{4, 5, 9, 11} {
		tamper(t, l, func(t *testing.T, b buckets) { editEntry(t, b, seq, `"version":"1"`, `"version":"2"`) })
		var broken *BrokenError
		if _, err := l.Verify(t.Context()); !errors.As(err, &broken) || broken.Seq != seq {
			t.Errorf("Verify after editing seq %d = %v", seq, err)
		}
		tamper(t, l, func(t *testing.T, b buckets) { editEntry(t, b, seq, `"version":"2"`, `"version":"1"`) })
	}
}

// mustIx opens an index bucket of b.
func mustIx(t testing.TB, b buckets, ix *index) *bbolt.Bucket {
	t.Helper()
	bk, err := b.ix(ix)
	if err != nil {
		t.Fatal(err)
	}
	return bk
}
