package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// holdApplies stops l's applier before its next apply until release; the
// journal keeps taking appends meanwhile (a crash at that moment loses
// the applies, not the entries).
func holdApplies(t *testing.T, l *Ledger) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	release = sync.OnceFunc(func() { close(ch) })
	l.beforeApply = func() error { <-ch; return nil }
	t.Cleanup(release) // before the ledger's Close, registered earlier
	return release
}

// crashImage copies l's database file and journal, as a crash would leave
// them, into a new directory and returns the database's path there.
func crashImage(t *testing.T, l *Ledger) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "ds4p.db")
	for _, pair := range [][2]string{{l.db.Path(), dst}, {JournalPath(l.db.Path()), JournalPath(dst)}} {
		b, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pair[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// reopen opens the ledger of the database file at path read-write.
func reopen(t *testing.T, path string, opts ...Option) (*Ledger, error) {
	t.Helper()
	db := openFile(t, path)
	t.Cleanup(func() { _ = db.Close() })
	l, err := Open(db, opts...)
	if err == nil {
		t.Cleanup(func() { _ = l.Close() })
	}
	return l, err
}

// requestIDs returns every entry's RequestID, in seq order.
func requestIDs(t *testing.T, l *Ledger) []string {
	t.Helper()
	var out []string
	for seq := uint64(0); ; {
		page, err := l.EntriesAfter(t.Context(), seq, MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		for _, e := range page {
			out = append(out, e.RequestID)
		}
		seq = page[len(page)-1].Seq
	}
}

func wantIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("req-%03d", i))
	}
	return out
}

// appendRange appends sample entries from..to, one Append each.
func appendRange(t *testing.T, l *Ledger, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := l.Append(t.Context(), sample(i, "Patient/a")); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

// TestJournalRecoversAfterCrash: entries whose Append returned while the
// applier had not stored them are in the ledger after a crash, chained and
// indexed, plaintext and encrypted; a read-only open refuses rather than
// answer without them.
func TestJournalRecoversAfterCrash(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprint("sealed=", sealed), func(t *testing.T) {
			t.Parallel()
			_, l, opts := newLedgerMaybeSealed(t, sealed)
			appendRange(t, l, 1, 5)
			settle(t, l)
			holdApplies(t, l)
			appendRange(t, l, 6, 12)
			path := crashImage(t, l)

			ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Open(ro, opts...); !errors.Is(err, ErrNeedsRecovery) {
				t.Errorf("read-only Open of a crashed ledger = %v; want ErrNeedsRecovery", err)
			}
			_ = ro.Close()

			got, err := reopen(t, path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got.Recovered() != 7 {
				t.Errorf("Recovered() = %d; want 7 (entries 6..12)", got.Recovered())
			}
			if ids := requestIDs(t, got); !slices.Equal(ids, wantIDs(1, 12)) {
				t.Fatalf("after recovery: %v", ids)
			}
			if n, err := got.Verify(t.Context()); err != nil || n != 12 {
				t.Fatalf("Verify = %d, %v", n, err)
			}
			if found, err := got.Find(t.Context(), Query{Patient: "Patient/a"}); err != nil || len(found) != 12 {
				t.Fatalf("Find by patient = %d, %v; want 12 (the recovered entries indexed)", len(found), err)
			}
			// The chain goes on from the recovered head.
			appendRange(t, got, 13, 13)
			if n, err := got.Verify(t.Context()); err != nil || n != 13 {
				t.Fatalf("Verify after a new append = %d, %v", n, err)
			}
			if sealed {
				j, _ := os.ReadFile(JournalPath(path))
				if bytes.Contains(j, []byte("Patient/a")) {
					t.Error("the encrypted ledger's journal holds plaintext")
				}
			}
		})
	}
}

// TestJournalTornLastRecord: a record the crash cut short (its Append never
// returned) is dropped; the records before it are recovered.
func TestJournalTornLastRecord(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	holdApplies(t, l)
	appendRange(t, l, 1, 4)
	off := l.j.off
	path := crashImage(t, l)
	j, err := os.OpenFile(JournalPath(path), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The last record is the last Append's; cut into its payload.
	last := lastRecordStart(t, j, off)
	if _, err := j.WriteAt(make([]byte, 8), last+journalHeader+20); err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	got, err := reopen(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if ids := requestIDs(t, got); !slices.Equal(ids, wantIDs(1, 3)) {
		t.Fatalf("after recovery: %v; want 1..3", ids)
	}
	if n, err := got.Verify(t.Context()); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// lastRecordStart returns the offset of the record that ends at end.
func lastRecordStart(t *testing.T, f *os.File, end int64) int64 {
	t.Helper()
	recs, err := readJournal(f, end)
	if err != nil || len(recs) == 0 {
		t.Fatalf("reading the journal: %d records, %v", len(recs), err)
	}
	size := int64(journalHeader + 13)
	for _, v := range recs[len(recs)-1].values {
		size += 4 + int64(len(v))
	}
	return end - size
}

// TestJournalWrapsAround: a small journal reused many times over, by
// concurrent appenders, loses nothing; after it wrapped, the older records
// beyond the newest do not confuse recovery.
func TestJournalWrapsAround(t *testing.T) {
	t.Parallel()
	l := newLedger(t, WithJournalSize(MinJournalSize))
	var wg sync.WaitGroup
	const workers, each = 8, 60
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := l.Append(t.Context(), sample(1000+w*each+i, "Patient/b")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	settle(t, l)
	if l.j.size != MinJournalSize {
		t.Fatalf("journal size %d", l.j.size)
	}
	// Wrap here, as the next record that does not fit would (everything is
	// stored), so that the held appends below cannot need a wrap, which
	// waits for the held applier. The older records stay beyond them.
	l.j.off = 0
	holdApplies(t, l)
	appendRange(t, l, 1, 6)
	got, err := reopen(t, crashImage(t, l))
	if err != nil {
		t.Fatal(err)
	}
	ids := requestIDs(t, got)
	if len(ids) != workers*each+6 || !slices.Equal(ids[workers*each:], wantIDs(1, 6)) {
		t.Fatalf("after recovery: %d entries ending %v", len(ids), ids[max(0, len(ids)-6):])
	}
	if n, err := got.Verify(t.Context()); err != nil || n != workers*each+6 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// TestJournalLargeGroupGoesDirect: a group larger than a quarter of the
// journal is committed to the file directly, and the journal's next records
// still recover.
func TestJournalLargeGroupGoesDirect(t *testing.T) {
	t.Parallel()
	l := newLedger(t, WithJournalSize(MinJournalSize))
	appendRange(t, l, 1, 2)
	big := sample(3, "Patient/a")
	for i := range 2000 { // ~20 bytes of entropy each: stays large compressed
		big.Disclosed = append(big.Disclosed, Item{Type: "Observation", ID: fmt.Sprintf("%x", uint64(i)*0x9e3779b97f4a7c15), Version: "1"})
	}
	before := l.j.off
	if err := l.Append(t.Context(), big); err != nil {
		t.Fatal(err)
	}
	if l.j.off != 0 || before == 0 {
		t.Fatalf("journal offset %d → %d; want the large entry committed directly and the journal restarted", before, l.j.off)
	}
	holdApplies(t, l)
	appendRange(t, l, 4, 6)
	got, err := reopen(t, crashImage(t, l))
	if err != nil {
		t.Fatal(err)
	}
	if ids := requestIDs(t, got); !slices.Equal(ids, wantIDs(1, 6)) {
		t.Fatalf("after recovery: %v", ids)
	}
	if n, err := got.Verify(t.Context()); err != nil || n != 6 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// TestJournalFailsClosed: once storing journaled entries fails, the ledger
// refuses appends and reads and reports it; reopening stores them.
func TestJournalFailsClosed(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	appendRange(t, l, 1, 2)
	settle(t, l)
	l.beforeApply = func() error { return errors.New("disk full") }
	if err := l.Append(t.Context(), sample(3, "Patient/a")); err != nil {
		t.Fatalf("the journal took no entry: %v", err)
	}
	if _, err := l.Find(t.Context(), Query{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Find after a failed apply = %v; want the failure", err)
	}
	if err := l.Append(t.Context(), sample(4, "Patient/a")); err == nil {
		t.Fatal("an Append after a failed apply succeeded")
	}
	if _, err := l.EntriesAfter(t.Context(), 0, 10); err == nil {
		t.Fatal("EntriesAfter after a failed apply succeeded")
	}
	if l.Err() == nil {
		t.Fatal("Err() is nil after a failed apply")
	}
	again, err := Open(db) // takes the journal over from l
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Close() })
	if ids := requestIDs(t, again); !slices.Equal(ids, wantIDs(1, 3)) {
		t.Fatalf("after reopening: %v; want 1..3 (3 was durable in the journal)", ids)
	}
	if err := l.Append(t.Context(), sample(5, "Patient/a")); err == nil {
		t.Fatal("the superseded ledger still appends")
	}
}

// TestJournalRefusesAnotherChain: a journal whose entries do not continue
// the database's chain (the database was replaced) stops Open with an
// error saying so, rather than storing them or dropping them.
func TestJournalRefusesAnotherChain(t *testing.T) {
	t.Parallel()
	a := newLedger(t)
	appendRange(t, a, 1, 3)
	settle(t, a)
	holdApplies(t, a)
	appendRange(t, a, 4, 5)
	pathA := crashImage(t, a)

	b := newLedger(t) // another ledger with as many entries, other ones
	appendSamples(t, b, 3)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(JournalPath(pathA))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(JournalPath(b.db.Path()), j, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(b.db)
	if err == nil || !strings.Contains(err.Error(), "does not continue") || !strings.Contains(err.Error(), "move the journal away") {
		t.Fatalf("Open with another chain's journal = %v", err)
	}
}

// FuzzJournal: recovery's reader takes any bytes as a journal without
// panicking, returns only whole, consecutive records, and reads back every
// record written (appendRecord) in front of arbitrary trailing bytes.
func FuzzJournal(f *testing.F) {
	f.Add([]byte{}, uint64(1), uint8(3), []byte("junk"))
	f.Add(appendRecord(nil, false, 1, [][]byte{[]byte("{}")}), uint64(2), uint8(1), []byte{})
	f.Add(appendRecord(nil, true, 7, [][]byte{{1, 2}, {}}), uint64(9), uint8(2), appendRecord(nil, false, 3, [][]byte{{4}}))
	f.Fuzz(func(t *testing.T, raw []byte, first uint64, n uint8, tail []byte) {
		check := func(recs []journalRecord) {
			for i, r := range recs {
				if r.first == 0 || len(r.values) == 0 {
					t.Fatalf("record %d: first %d, %d values", i, r.first, len(r.values))
				}
				if i > 0 && r.first != recs[i-1].first+uint64(len(recs[i-1].values)) {
					t.Fatalf("record %d does not follow record %d", i, i-1)
				}
			}
		}
		recs, err := readJournal(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		check(recs)

		first = first%(1<<40) + 1
		count := int(n%5) + 1
		var buf []byte
		var want [][]byte
		for i := range count {
			v := []byte(fmt.Sprint("value-", i, "-", first))
			want = append(want, v)
			buf = appendRecord(buf, i%2 == 0, first+uint64(i), [][]byte{v})
		}
		buf = append(buf, tail...)
		recs, err = readJournal(bytes.NewReader(buf), int64(len(buf)))
		if err != nil {
			t.Fatal(err)
		}
		check(recs)
		if len(recs) < count {
			t.Fatalf("read back %d of %d records written before %d trailing bytes", len(recs), count, len(tail))
		}
		for i := range count {
			if recs[i].first != first+uint64(i) || recs[i].sealed != (i%2 == 0) || !bytes.Equal(recs[i].values[0], want[i]) {
				t.Fatalf("record %d read back as %+v", i, recs[i])
			}
		}
	})
}

// TestJournalAppliesUnderTheActiveKey: entries journaled under one storage
// key and stored after the key changed are stored under the new key, so a
// rotation that ran meanwhile leaves nothing under the old one.
func TestJournalAppliesUnderTheActiveKey(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	oldKey := testKey(t, true)
	s := openSealer(t, db, oldKey)
	l, err := Open(db, WithSealer(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	release := holdApplies(t, l)
	appendRange(t, l, 1, 3)
	oldKey.Active = false
	ring, err := seal.NewKeyring([]seal.Key{oldKey, testKey(t, true)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetKeyring(ring, SealedBuckets); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(t.Context(), SealedBuckets, 0); err != nil { // before the entries are stored
		t.Fatal(err)
	}
	release()
	settle(t, l)
	c, err := seal.Count(db, SealedBuckets)
	if err != nil || c.ByKey[oldKey.ID] != 0 || c.ByKey[ring.Active()] == 0 {
		t.Fatalf("after storing the journaled entries: %+v, %v; want none under the old key", c, err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// TestReadsWaitForTheApplier: while journaled entries are not in the file
// yet, every read waits for them (here until its deadline) rather than
// answer without them; once stored, they see them.
func TestReadsWaitForTheApplier(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendRange(t, l, 1, 2)
	settle(t, l)
	release := holdApplies(t, l)
	appendRange(t, l, 3, 4)
	reads := map[string]func(ctx context.Context) error{
		"Head":         func(ctx context.Context) error { _, _, err := l.Head(ctx); return err },
		"HashAt":       func(ctx context.Context) error { _, _, err := l.HashAt(ctx, 4); return err },
		"EntriesAfter": func(ctx context.Context) error { _, err := l.EntriesAfter(ctx, 0, 10); return err },
		"Find":         func(ctx context.Context) error { _, err := l.Find(ctx, Query{}); return err },
		"Verify":       func(ctx context.Context) error { _, err := l.Verify(ctx); return err },
		"Checkpoint":   func(ctx context.Context) error { _, err := l.Checkpoint(ctx); return err },
		"Export": func(ctx context.Context) error {
			_, err := l.Export(ctx, time.Time{}, time.Now().Add(time.Hour), io.Discard)
			return err
		},
		"Accounting": func(ctx context.Context) error {
			_, _, err := l.Accounting(ctx, "Patient/a", time.Time{}, time.Now().Add(time.Hour))
			return err
		},
	}
	for name, read := range reads {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		err := read(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s answered while entries 3 and 4 were not stored: %v", name, err)
		}
	}
	release()
	if seq, _, err := l.Head(t.Context()); err != nil || seq != 4 {
		t.Fatalf("Head after storing = %d, %v; want 4", seq, err)
	}
	if ids := requestIDs(t, l); !slices.Equal(ids, wantIDs(1, 4)) {
		t.Fatalf("entries after storing: %v", ids)
	}
}

// TestVerifyPendingJournal: a read-only ledger opened WithPendingJournal
// beside a journal holding entries the file lacks (a crash) opens, checks
// those entries from the journal and counts them as pending, finds their
// hashes, and writes neither the file nor the journal; an altered
// journaled entry is a break. Entries deleted from the newest end of the
// file, with the head set back (a replayed head), come back as pending
// rather than vanish, and a replaced one is caught (plaintext).
func TestVerifyPendingJournal(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprint("sealed=", sealed), func(t *testing.T) {
			t.Parallel()
			_, l, opts := newLedgerMaybeSealed(t, sealed)
			appendRange(t, l, 1, 5)
			settle(t, l)
			holdApplies(t, l)
			appendRange(t, l, 6, 12)
			path := crashImage(t, l)
			dbBytes, journalBytes := mustRead(t, path), mustRead(t, JournalPath(path))

			verifyRO := func(path string) (VerifyResult, *Ledger, error) {
				t.Helper()
				ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = ro.Close() })
				got, err := Open(ro, append(slices.Clone(opts), WithPendingJournal())...)
				if err != nil {
					t.Fatalf("read-only Open WithPendingJournal = %v", err)
				}
				res, err := got.VerifyWith(t.Context(), VerifyOptions{})
				return res, got, err
			}
			res, got, err := verifyRO(path)
			if err != nil || res.N != 12 || res.Pending != 7 || res.HeadSeq != 12 {
				t.Fatalf("VerifyWith = %+v, %v; want 12 entries, 7 pending", res, err)
			}
			if h, ok, err := got.HashAt(t.Context(), 12); err != nil || !ok || h != res.HeadHash {
				t.Errorf("HashAt(12) = %s %v %v; want the journaled head %s", h, ok, err, res.HeadHash)
			}
			if !bytes.Equal(mustRead(t, path), dbBytes) || !bytes.Equal(mustRead(t, JournalPath(path)), journalBytes) {
				t.Error("verifying changed the database file or the journal")
			}

			// An altered journaled entry (its CRC recomputed, as anyone can).
			bad := crashImage(t, l)
			f, err := os.OpenFile(JournalPath(bad), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			recs, _ := readJournal(f, int64(len(journalBytes)))
			// Plaintext: entry 9's request id; encrypted: a ciphertext byte
			// of the last entry (12).
			var buf []byte
			for _, r := range recs {
				values := slices.Clone(r.values)
				for i := range values {
					switch seq := r.first + uint64(i); {
					case !sealed && seq == 9:
						values[i] = bytes.Replace(values[i], []byte("req-009"), []byte("req-999"), 1)
					case sealed && seq == 12:
						values[i] = slices.Clone(values[i])
						values[i][len(values[i])-20] ^= 1
					}
				}
				buf = appendRecord(buf, r.sealed, r.first, values)
			}
			if _, err := f.WriteAt(buf, 0); err != nil {
				t.Fatal(err)
			}
			_ = f.Close()
			_, _, err = verifyRO(bad)
			var broken *BrokenError
			if !errors.As(err, &broken) || (!sealed && broken.Seq != 9) || (sealed && broken.Seq != 12) {
				t.Errorf("VerifyWith with an altered journaled entry = %v", err)
			}
		})
	}

	// Everything stored; then the newest three deleted from the file and
	// the head set back to 9, as a replayed (sealed) head from a backup
	// would. The journal still holds them.
	for _, sealed := range []bool{false, true} {
		_, l, opts := newLedgerMaybeSealed(t, sealed)
		appendRange(t, l, 1, 12)
		settle(t, l)
		if _, err := l.Verify(t.Context()); err != nil {
			t.Fatal(err)
		}
		path := crashImage(t, l)
		db := openFile(t, path)
		c := l.codec
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := bucketsOf(tx, c)
			if err != nil {
				return err
			}
			for seq := uint64(10); seq <= 12; seq++ {
				e, err := b.entryAt(seq)
				if err != nil {
					return err
				}
				if err := deleteIndexKeys(b, &e); err != nil {
					return err
				}
				if err := b.entries.Delete(seqKey(seq)); err != nil {
					return err
				}
			}
			e9, err := b.entryAt(9)
			if err != nil {
				return err
			}
			return b.writeHead(9, e9.Hash)
		})
		_ = db.Close()
		if err != nil {
			t.Fatal(err)
		}
		ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(ro, append(slices.Clone(opts), WithPendingJournal())...)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := got.VerifyWith(t.Context(), VerifyOptions{}); err != nil || res.HeadSeq != 12 || res.Pending != 3 {
			t.Errorf("sealed=%v: VerifyWith of a file cut back to seq 9 = %+v, %v; want the journal's 10..12 pending", sealed, res, err)
		}
		_ = ro.Close()
	}
}
