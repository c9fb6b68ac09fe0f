package audit

import (
	"fmt"
	"testing"
)

// BenchmarkVerify checks the whole chain of a ledger of 200 search
// entries of 500 items each (what `ds4p audit verify` does): every entry
// read, decoded, written again and hashed.
func BenchmarkVerify(b *testing.B) {
	l := newLedger(b)
	for i := 1; i <= 200; i++ {
		e := sample(i, "Patient/p1")
		e.Disclosed = make([]Item, 500)
		for j := range e.Disclosed {
			e.Disclosed[j] = Item{Type: "Observation", ID: fmt.Sprintf("obs-%d-%d", i, j), Version: "1",
				Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N", "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"}}
		}
		if err := l.Append(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		n, err := l.Verify(b.Context())
		if err != nil || n != 200 {
			b.Fatalf("verified %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/200, "µs/entry")
}
