package audit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// testKey returns a new storage key.
func testKey(t testing.TB, active bool) seal.Key {
	t.Helper()
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k.Active = active
	return k
}

// openSealer opens a Sealer for db with keys.
func openSealer(t testing.TB, db *bbolt.DB, keys ...seal.Key) *seal.Sealer {
	t.Helper()
	r, err := seal.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.Open(db, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openFile opens (or reopens) the bbolt file at path.
func openFile(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// phiEntry is an entry full of distinctive identifying strings.
func phiEntry(i int) Entry {
	e := sample(i, fmt.Sprintf("Patient/zz-mrn-7731-%d", i%3))
	e.Caller = Party{Subject: "Practitioner/dr-quenby-okafor", Org: "Organization/harbor-recovery-clinic",
		Client: "ehr-app", Name: "Quenby Okafor", Address: "12 Wharf Lane"}
	e.Purposes = []string{"PURPOSE-ZQX"}
	e.Query = "/Condition?patient=Patient/zz-mrn-7731-" + fmt.Sprint(i%3)
	e.BreakGlass = &BreakGlass{Reason: "overdose-emergency-xy", Recipient: "Dr Okafor"}
	return e
}

// phiStrings are the strings phiEntry writes that must not be in the file.
var phiStrings = []string{"zz-mrn-7731", "quenby", "okafor", "harbor-recovery", "Wharf Lane", "PURPOSE-ZQX", "overdose-emergency", "sud1", "part2"}

// assertNoPlaintext fails if the file at path holds any of needles, in any case.
func assertNoPlaintext(t *testing.T, path string, needles []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	low := bytes.ToLower(raw)
	for _, n := range needles {
		if bytes.Contains(low, bytes.ToLower([]byte(n))) {
			t.Errorf("the database file holds %q in plaintext", n)
		}
	}
}

// TestSealedLedgerHoldsNoPlaintext writes identifying entries to an
// encrypted ledger, checks every query still finds them, then scans the
// raw file for the identifiers.
func TestSealedLedgerHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	l, err := Open(db, WithSealer(openSealer(t, db, testKey(t, true))))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		if err := l.Append(t.Context(), phiEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []Query{
		{Patient: "Patient/zz-mrn-7731-1"}, {Recipient: "Organization/harbor-recovery-clinic"},
		{Recipient: "Practitioner/dr-quenby-okafor"}, {Purpose: "PURPOSE-ZQX"}, {BreakGlass: true},
		{From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)},
	} {
		got, err := l.Find(t.Context(), q)
		want := map[bool]int{true: 10, false: 30}[q.Patient != "" || !q.From.IsZero()]
		if err != nil || len(got) != want {
			t.Errorf("Find(%+v) = %d entries, %v; want %d", q, len(got), err, want)
		}
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 30 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoPlaintext(t, path, phiStrings)
}

// TestSealedLedgerWrongKey checks that the wrong key, or none, refuses to
// open an encrypted ledger and leaves the file as it was.
func TestSealedLedgerWrongKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	right := testKey(t, true)
	l, err := Open(db, WithSealer(openSealer(t, db, right)))
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 5)
	_ = db.Close()
	before := sha256.Sum256(mustRead(t, path))

	db = openFile(t, path)
	defer db.Close()
	r, _ := seal.NewKeyring([]seal.Key{testKey(t, true)})
	if _, err := seal.Open(db, r); !errors.Is(err, seal.ErrWrongKey) || !strings.Contains(err.Error(), seal.FormatID(right.ID)) {
		t.Fatalf("wrong key: %v; want ErrWrongKey naming %s", err, seal.FormatID(right.ID))
	}
	if _, err := Open(db); err == nil || !strings.Contains(err.Error(), seal.FormatID(right.ID)) {
		t.Fatalf("no key: %v; want an error naming the key id", err)
	}
	_ = db.Close()
	if sha256.Sum256(mustRead(t, path)) != before {
		t.Fatal("refused opens changed the file")
	}
}

// mustRead reads a file.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealedRotationUnderAppends rotates the key while callers append,
// then checks every entry reads, Verify passes and the old key is unused.
func TestSealedRotationUnderAppends(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	old, next := testKey(t, true), testKey(t, false)
	s := openSealer(t, db, old)
	l, err := Open(db, WithSealer(s))
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 200)
	old.Active, next.Active = false, true
	r, _ := seal.NewKeyring([]seal.Key{old, next})
	if err := s.SetKeyring(r, SealedBuckets); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if err := l.Append(t.Context(), sample(1000+w*100+i, "Patient/c")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	if _, err := s.Rotate(t.Context(), SealedBuckets, 16); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c, err := seal.Count(db, SealedBuckets)
	if err != nil || c.ByKey[old.ID] != 0 || c.Plain != 0 {
		t.Fatalf("after rotation: %+v, %v", c, err)
	}
	// With the old key removed, everything reads and verifies.
	r2, _ := seal.NewKeyring([]seal.Key{next})
	if err := s.SetKeyring(r2, SealedBuckets); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 400 {
		t.Fatalf("Verify = %d, %v; want 400", n, err)
	}
	if got, err := l.Find(t.Context(), Query{Patient: "Patient/c", Limit: MaxLimit}); err != nil || len(got) != 200 {
		t.Fatalf("Find = %d, %v", len(got), err)
	}
}

// TestSealedForgedChain rewrites an entry the way an attacker who can
// write the file (and even seal values) but lacks the chain key would: the
// content changed and the hash recomputed as an unkeyed SHA-256 chain.
// Verify and the export check both catch it.
func TestSealedForgedChain(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	s := openSealer(t, db, testKey(t, true))
	l, err := Open(db, WithSealer(s))
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 6)
	var export bytes.Buffer
	if _, err := l.Export(t.Context(), time.Time{}, time.Time{}, &export); err != nil {
		t.Fatal(err)
	}
	if _, n, err := l.VerifyNDJSON(bytes.NewReader(export.Bytes()), Checkpoint{Hash: GenesisHash}); err != nil || n != 6 {
		t.Fatalf("the export does not verify: %d, %v", n, err)
	}
	if _, _, err := VerifyNDJSON(bytes.NewReader(export.Bytes()), Checkpoint{Hash: GenesisHash}); err == nil {
		t.Fatal("keyed links verified without the key")
	}
	// Forge seq 6 (the newest, so no later link betrays it) with an unkeyed hash.
	var forged Entry
	tamper(t, l, func(t *testing.T, b buckets) {
		e, err := b.entryAt(6)
		if err != nil {
			t.Fatal(err)
		}
		e.Query = "/Condition?patient=Patient/forged"
		v, err := link(&e, sha256.New)
		if err != nil {
			t.Fatal(err)
		}
		forged = e
		mustPut(t, b.entries, seqKey(6), s.Seal(entriesName, seqKey(6), v))
		if err := b.writeHead(6, e.Hash); err != nil {
			t.Fatal(err)
		}
	})
	_, err = l.Verify(t.Context())
	var be *BrokenError
	if !errors.As(err, &be) || be.Seq != 6 || !strings.Contains(be.Reason, "chain key") {
		t.Fatalf("Verify = %v; want broken at seq 6 under the chain key", err)
	}
	lines := bytes.Split(bytes.TrimSpace(export.Bytes()), []byte("\n"))
	lines[5], _ = link(&forged, sha256.New)
	_, _, err = l.VerifyNDJSON(bytes.NewReader(bytes.Join(lines, []byte("\n"))), Checkpoint{Hash: GenesisHash})
	if !errors.As(err, &be) || be.Seq != 6 {
		t.Fatalf("forged export line: %v; want broken at seq 6", err)
	}
}

// writeSchema2 writes n entries with the current plaintext code, as a
// ledger written before encryption existed: the migration fixture.
func writeSchema2(t *testing.T, path string, n int) {
	t.Helper()
	db := openFile(t, path)
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := l.Append(t.Context(), phiEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSealedMigrationFromPlaintext encrypts schema-1 and schema-2 ledgers,
// in chunks, and checks the result: no plaintext, the old hashes kept (so
// a recorded head still matches), queries and Verify work, new links are
// keyed, and an edit of a migrated entry is caught.
func TestSealedMigrationFromPlaintext(t *testing.T) {
	t.Parallel()
	for _, schema := range []int{1, 2} {
		t.Run(fmt.Sprint(schema), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "ds4p.db")
			if schema == 2 {
				writeSchema2(t, path, 25)
			} else {
				db := openFile(t, path)
				writeSchema1(t, db, 25)
				_ = db.Close()
			}
			db := openFile(t, path)
			defer db.Close()
			plain, err := Open(db) // schema 1 migrates to 2 first, as before
			if err != nil {
				t.Fatal(err)
			}
			_, oldHead, _ := plain.Head(t.Context())
			_, hash10, _, _ := hashAt(t, plain, 10)
			s := openSealer(t, db, testKey(t, true))
			l := &Ledger{db: db, now: time.Now, verifyChunk: defaultVerifyChunk, codec: codec{s: s}}
			if err := l.migrateSealed(7); err != nil { // 4 chunks
				t.Fatal(err)
			}
			if _, err := Open(db); err == nil {
				t.Fatal("opened an encrypted ledger without its key")
			}
			l, err = Open(db, WithSealer(s))
			if err != nil {
				t.Fatal(err)
			}
			if _, head, _ := l.Head(t.Context()); head != oldHead {
				t.Fatal("the migration changed the head hash")
			}
			if _, h, ok, _ := hashAt(t, l, 10); !ok || h != hash10 {
				t.Fatal("the migration changed a hash")
			}
			appendSamples(t, l, 3)
			if n, err := l.Verify(t.Context()); err != nil || n != 28 {
				t.Fatalf("Verify = %d, %v", n, err)
			}
			patient := "Patient/b"
			if schema == 2 {
				patient = "Patient/zz-mrn-7731-1"
			}
			if got, err := l.Find(t.Context(), Query{Patient: patient}); err != nil || len(got) < 8 {
				t.Fatalf("Find = %d, %v", len(got), err)
			}
			if schema == 2 {
				_ = db.Sync()
				assertNoPlaintext(t, path, phiStrings)
			}
			// Rewrite migrated entry 10 with a recomputed unkeyed hash.
			tamper(t, l, func(t *testing.T, b buckets) {
				e, _ := b.entryAt(10)
				e.Interaction = "forged"
				v, _ := link(&e, sha256.New)
				mustPut(t, b.entries, seqKey(10), s.Seal(entriesName, seqKey(10), v))
			})
			var be *BrokenError
			if _, err := l.Verify(t.Context()); !errors.As(err, &be) || be.Seq != 11 {
				t.Fatalf("Verify = %v; want broken at 11 (its prev_hash)", err)
			}
		})
	}
}

// hashAt returns seq, its hash and whether it exists.
func hashAt(t *testing.T, l *Ledger, seq uint64) (uint64, string, bool, error) {
	t.Helper()
	h, ok, err := l.HashAt(t.Context(), seq)
	return seq, h, ok, err
}

// TestSealedMigrationResumes interrupts an encryption after one chunk: a
// plaintext open is refused (the file has a key now) and the next open
// with the key finishes it.
func TestSealedMigrationResumes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	writeSchema2(t, path, 20)
	db := openFile(t, path)
	defer db.Close()
	s := openSealer(t, db, testKey(t, true))
	l := &Ledger{db: db, codec: codec{s: s}}
	err := db.Update(func(tx *bbolt.Tx) error { _, err := l.migrateSealedStep(tx, 8); return err })
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := seal.Count(db, SealedBuckets); c.Plain != 13 { // 12 entries and the head
		t.Fatalf("after one chunk: %+v", c)
	}
	if _, err := Open(db); err == nil {
		t.Fatal("a half-encrypted ledger opened without its key")
	}
	l, err = Open(db, WithSealer(s))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 20 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	if c, _ := seal.Count(db, SealedBuckets); c.Plain != 0 {
		t.Fatalf("after resuming: %+v", c)
	}
}

// TestSealedReadOnlyNeedsKey checks a read-only open (ds4p audit verify)
// of an encrypted ledger: with the key it verifies, without it the error
// names the key id.
func TestSealedReadOnlyNeedsKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	key := testKey(t, true)
	l, err := Open(db, WithSealer(openSealer(t, db, key)))
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 4)
	_ = db.Close()
	ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := Open(ro); err == nil || !strings.Contains(err.Error(), seal.FormatID(key.ID)) {
		t.Fatalf("read-only open without the key: %v", err)
	}
	l, err = Open(ro, WithSealer(openSealer(t, ro, key)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 4 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// TestSealedPrune prunes an encrypted ledger: the export is the entries'
// canonical JSON, it verifies under the chain key, and Verify continues
// from the checkpoint.
func TestSealedPrune(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l, err := Open(db, WithSealer(openSealer(t, db, testKey(t, true))))
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 10)
	dir := t.TempDir()
	res, err := l.Prune(t.Context(), t0.Add(6*time.Minute), dir)
	if err != nil || res.Pruned != 5 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	f, err := os.Open(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, n, err := l.VerifyNDJSON(f, Checkpoint{Hash: GenesisHash}); err != nil || n != 5 {
		t.Fatalf("VerifyNDJSON = %d, %v", n, err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}
