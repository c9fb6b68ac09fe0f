package seal

import (
	"bytes"
	"testing"
)

// BenchmarkSealValue measures sealing and opening one 2 KB value (a
// ledger entry or a consent) and one index key.
func BenchmarkSealValue(b *testing.B) {
	db, _ := openDB(b)
	s, err := Open(db, ring(b, newKey(b, true)))
	if err != nil {
		b.Fatal(err)
	}
	plain := bytes.Repeat([]byte(`{"patient":"Patient/1"}`), 2048/23)
	key := []byte("00000001")
	b.Run("seal", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for range b.N {
			_ = s.Seal("audit/v1/entries", key, plain)
		}
	})
	sealed := s.Seal("audit/v1/entries", key, plain)
	b.Run("open", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for range b.N {
			if _, err := s.Open("audit/v1/entries", key, sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("index_key", func(b *testing.B) {
		for range b.N {
			_ = s.IndexKey("by_patient", "Patient/pat-123")
		}
	})
}
