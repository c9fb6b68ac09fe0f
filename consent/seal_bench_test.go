package consent

import (
	"fmt"
	"testing"
)

// BenchmarkSealForPatient reads a patient's consents (the per-request read
// when the decision cache misses): 3 consents of one patient among 300,
// plaintext against sealed (3 decryptions, an HMAC of the patient).
func BenchmarkSealForPatient(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "sealed"}[sealed], func(b *testing.B) {
			db := openDB(b)
			var opts []Option
			if sealed {
				opts = append(opts, WithSealer(testSealer(b, db)))
			}
			s, err := Open(db, opts...)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 300 {
				raw := tpoConsent[:len(tpoConsent)-1] + fmt.Sprintf(`, "id": "c%d"}`, i)
				raw = replaceOnce(raw, `"Patient/p1"`, fmt.Sprintf(`"Patient/p%d"`, i%100))
				if _, err := s.Put(b.Context(), []byte(raw)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				recs, err := s.ForPatient(b.Context(), "Patient/p7")
				if err != nil || len(recs) != 3 {
					b.Fatalf("ForPatient = %d, %v", len(recs), err)
				}
			}
		})
	}
}

// replaceOnce replaces the first old in s with new.
func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
