package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// writeLegacyUTF8Entry stores, after what l2 holds, an entry the way a
// release before the fix of 2026-12-05 did: strings that are not valid
// UTF-8 (a raw byte in a caller's query or header) linked as they are, so
// the stored JSON holds encoding/json's \ufffd escape and the hash is over
// that, and index keys built from the raw bytes.
func writeLegacyUTF8Entry(t *testing.T, db *bbolt.DB, opts []Option, i int) {
	t.Helper()
	l, err := Open(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := canonical(sample(i, "Patient/a"))
	e.Query = "/Condition?code=\xfe"
	e.Caller.Subject = "Practitioner/dr\xff"
	e.Purposes = []string{"TREAT\xc3"}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		_, indexed, err := b.headAndMark()
		if err != nil {
			return err
		}
		var linked []Entry
		w, err := l.appendTx(b, []Entry{e}, time.Now(), &linked)
		if err != nil {
			return err
		}
		head, _, err := b.readHead()
		if err != nil {
			return err
		}
		_, err = settleIndex(b, indexed, head, w, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyInvalidUTF8EntryVerifiesAndPrunes: a ledger holding an entry
// an earlier release wrote from bytes that are not UTF-8 verified up to
// it and no further ("hash does not match the entry's content"), for good,
// since the bytes it was hashed from are gone: its tamper evidence ended
// there, and it could not be pruned. Verify now accepts exactly that
// encoding of such an entry, and its raw-byte index keys, and a prune
// removes them with it.
func TestLegacyInvalidUTF8EntryVerifiesAndPrunes(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		db, l, opts := newLedgerMaybeSealed(t, sealed)
		if err := l.Append(t.Context(), sample(1, "Patient/a")); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		writeLegacyUTF8Entry(t, db, opts, 2)
		l, err := Open(db, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		if err := l.Append(t.Context(), sample(3, "Patient/b")); err != nil {
			t.Fatal(err)
		}
		if n, err := l.Verify(t.Context()); err != nil || n != 3 {
			t.Fatalf("sealed=%v: Verify = %d, %v; want all 3 entries verified", sealed, n, err)
		}
		res, err := l.Prune(t.Context(), at(3), filepath.Join(t.TempDir(), "exports"))
		if err != nil || res.Pruned != 2 || len(res.Files) != 1 {
			t.Fatalf("sealed=%v: Prune = %+v, %v; want the first two pruned", sealed, res, err)
		}
		f, err := os.Open(res.Files[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, n, err := l.VerifyNDJSON(f, Checkpoint{Hash: GenesisHash}); err != nil || n != 2 {
			t.Errorf("sealed=%v: the export verifies %d, %v; want 2", sealed, n, err)
		}
		f.Close()
		if n, err := l.Verify(t.Context()); err != nil || n != 1 {
			t.Errorf("sealed=%v: Verify after the prune = %d, %v; want 1", sealed, n, err)
		}
	}
}

// TestLegacyUTF8ReadingIsExact: the reading of a legacy entry accepts its
// \ufffd escapes and nothing else: a byte of it changed, or another
// escape in place of a character, still breaks the chain there.
func TestLegacyUTF8ReadingIsExact(t *testing.T) {
	t.Parallel()
	for _, change := range []struct{ from, to string }{
		{"Condition", "Conditiom"},
		{`"Patient/a"`, `"Patient\u002fa"`},
	} {
		db, l, opts := newLedgerMaybeSealed(t, false)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		writeLegacyUTF8Entry(t, db, opts, 1)
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := bucketsOf(tx, codec{})
			if err != nil {
				return err
			}
			v := bytes.Clone(b.entries.Get(seqKey(1)))
			if !bytes.Contains(v, []byte(change.from)) {
				t.Fatalf("the stored entry has no %s: %s", change.from, v)
			}
			return b.entries.Put(seqKey(1), bytes.Replace(v, []byte(change.from), []byte(change.to), 1))
		})
		if err != nil {
			t.Fatal(err)
		}
		l, err = Open(db, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := l.Verify(t.Context()); err == nil || n != 0 {
			t.Errorf("%s changed to %s: Verify = %d, %v; want the chain broken at seq 1", change.from, change.to, n, err)
		}
		_ = l.Close()
	}
}
