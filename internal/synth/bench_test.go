package synth

import (
	"fmt"
	"testing"
)

func BenchmarkBenchBundle(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			size := len(BenchBundle(n, 1))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				BenchBundle(n, 1)
			}
			b.ReportMetric(float64(size), "bundle-bytes")
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Generate(Options{Seed: 1, Patients: 100})
	}
}
