package audit

import (
	"fmt"
	"testing"
)

// sealModes opens a plaintext and an encrypted ledger for the Seal
// benchmarks.
var sealModes = []struct {
	name string
	open func(b *testing.B) *Ledger
}{
	{"plain", func(b *testing.B) *Ledger { return newLedger(b) }},
	{"sealed", func(b *testing.B) *Ledger {
		db := openDB(b)
		l, err := Open(db, WithSealer(openSealer(b, db, testKey(b, true))))
		if err != nil {
			b.Fatal(err)
		}
		return l
	}},
}

// BenchmarkSealAppend is what encryption adds to a request's ledger
// append: one durable append from one caller (one fsync each), plaintext
// against sealed (AES-256-GCM value, HMAC index keys, HMAC chain link).
func BenchmarkSealAppend(b *testing.B) {
	for _, m := range sealModes {
		b.Run(m.name, func(b *testing.B) {
			l := m.open(b)
			b.ResetTimer()
			for i := range b.N {
				if err := l.Append(b.Context(), sample(i, "Patient/a")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealEntry isolates the CPU cost of storing one entry without
// the fsync: linking, sealing and the index keys, plaintext against sealed.
func BenchmarkSealEntry(b *testing.B) {
	for _, m := range sealModes {
		b.Run(m.name, func(b *testing.B) {
			l := m.open(b)
			e := canonical(sample(1, "Patient/a"))
			chain := l.codec.chainOf(1, map[bool]uint64{true: 1, false: 0}[l.codec.sealed()])
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e.Seq, e.PrevHash = 1, GenesisHash
				v, err := link(&e, chain)
				if err != nil {
					b.Fatal(err)
				}
				_ = l.codec.storeEntry(e.Seq, v)
				for _, ix := range indexes {
					_ = ix.keys(l.codec, &e)
				}
			}
		})
	}
}

// BenchmarkSealFind reads one patient's page of 100 entries (a 5,000-entry
// ledger over 50 patients), plaintext against sealed (100 decryptions).
func BenchmarkSealFind(b *testing.B) {
	for _, m := range sealModes {
		b.Run(m.name, func(b *testing.B) {
			l := m.open(b)
			batch := make([]Entry, 5000)
			for i := range batch {
				batch[i] = sample(i, fmt.Sprintf("Patient/p%d", i%50))
			}
			if err := l.Append(b.Context(), batch...); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				got, err := l.Find(b.Context(), Query{Patient: "Patient/p7"})
				if err != nil || len(got) != 100 {
					b.Fatalf("Find = %d, %v", len(got), err)
				}
			}
		})
	}
}
