package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// largeEntry is the entry of a search that disclosed n items, each with
// its labels, as the proxy writes it.
func largeEntry(i, n int) Entry {
	e := sample(i, "Patient/a")
	e.Disclosed = nil
	for j := range n {
		e.Disclosed = append(e.Disclosed, Item{Type: "Observation", ID: fmt.Sprintf("obs-%d-%x", j, j*7919), Version: "1",
			Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N", "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"}})
	}
	return e
}

// TestLargeEntriesCompressed stores a 1,000-item entry compressed, in a
// plaintext and an encrypted ledger, and reads back exactly what was
// appended: from Find, from the export (canonical JSON, which
// VerifyNDJSON checks) and through Verify.
func TestLargeEntriesCompressed(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprint("sealed=", sealed), func(t *testing.T) {
			t.Parallel()
			db, l, _ := newLedgerMaybeSealed(t, sealed)
			want := largeEntry(1, 1000)
			if err := l.Append(t.Context(), want, sample(2, "Patient/b")); err != nil {
				t.Fatal(err)
			}
			settle(t, l)
			var stored, small []byte
			_ = db.View(func(tx *bbolt.Tx) error {
				b, _ := l.buckets(tx)
				stored, _ = b.c.load(entriesName, seqKey(1), b.entries.Get(seqKey(1)))
				small, _ = b.c.load(entriesName, seqKey(2), b.entries.Get(seqKey(2)))
				return nil
			})
			if !bytes.HasPrefix(stored, zstdMagic) || len(stored) > 20_000 {
				t.Fatalf("the large entry is stored as %d bytes starting %x; want a zstd frame", len(stored), stored[:4])
			}
			if len(small) == 0 || small[0] != '{' {
				t.Fatalf("the small entry is stored starting %q; want plain JSON", small[:1])
			}
			got, err := l.Find(t.Context(), Query{Patient: "Patient/a"})
			if err != nil || len(got) != 1 {
				t.Fatalf("Find = %d entries, %v", len(got), err)
			}
			want.Seq, want.PrevHash, want.Hash = 1, GenesisHash, got[0].Hash
			if !reflect.DeepEqual(canonical(want), got[0]) {
				t.Fatal("the entry read back differs from the one appended")
			}
			var out bytes.Buffer
			if n, err := l.Export(t.Context(), t0.Add(-time.Hour), t0.Add(time.Hour), &out); err != nil || n != 2 {
				t.Fatalf("Export = %d, %v", n, err)
			}
			first, _ := bufio.NewReader(&out).ReadBytes('\n')
			body, _ := json.Marshal(got[0])
			if !bytes.Equal(bytes.TrimSuffix(first, []byte("\n")), body) {
				t.Fatal("the export's line is not the entry's canonical JSON")
			}
			if n, err := l.Verify(t.Context()); err != nil || n != 2 {
				t.Fatalf("Verify = %d, %v", n, err)
			}
		})
	}
}

// TestVerifyCompressedTampering alters a compressed entry: a flipped byte
// (the frame no longer decodes, or decodes to other bytes) and a frame of
// other content are both reported at its seq.
func TestVerifyCompressedTampering(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		tamper func(t *testing.T, b buckets)
	}{
		{"flip a byte of the frame", func(t *testing.T, b buckets) {
			v := bytes.Clone(b.entries.Get(seqKey(2)))
			v[len(v)/2] ^= 0x01
			mustPut(t, b.entries, seqKey(2), v)
		}},
		{"recompress edited content", func(t *testing.T, b buckets) {
			_, plain, err := b.entry(seqKey(2), b.entries.Get(seqKey(2)))
			if err != nil {
				t.Fatal(err)
			}
			edited := bytes.Replace(plain, []byte("obs-7-"), []byte("obs-8-"), 1)
			mustPut(t, b.entries, seqKey(2), compressEntry(edited))
		}},
		{"a frame that is not an entry", func(t *testing.T, b buckets) {
			mustPut(t, b.entries, seqKey(2), entryEncoder.EncodeAll([]byte(strings.Repeat("x", 5000)), nil))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			if err := l.Append(t.Context(), sample(1, "Patient/a"), largeEntry(2, 300), sample(3, "Patient/a")); err != nil {
				t.Fatal(err)
			}
			if n, err := l.Verify(t.Context()); err != nil || n != 3 {
				t.Fatalf("Verify before tampering = %d, %v", n, err)
			}
			tamper(t, l, tt.tamper)
			_, err := l.Verify(t.Context())
			var be *BrokenError
			if !errors.As(err, &be) || be.Seq != 2 {
				t.Fatalf("Verify = %v; want broken at 2", err)
			}
		})
	}
}

// TestUncompressedLargeEntryStillReads: a large entry stored as plain JSON
// (by a ds4p from before compression) reads and verifies as before.
func TestUncompressedLargeEntryStillReads(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	if err := l.Append(t.Context(), largeEntry(1, 300)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	tamper(t, l, func(t *testing.T, b buckets) {
		_, plain, err := b.entry(seqKey(1), b.entries.Get(seqKey(1)))
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, b.entries, seqKey(1), bytes.Clone(plain))
	})
	if n, err := l.Verify(t.Context()); err != nil || n != 1 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	if got, err := l.Find(t.Context(), Query{}); err != nil || len(got) != 1 || len(got[0].Disclosed) != 300 {
		t.Fatalf("Find = %v, %v", len(got), err)
	}
}
