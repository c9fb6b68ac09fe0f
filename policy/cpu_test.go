package policy_test

import "testing"

// cpuTimer reports the process CPU time per benchmark iteration
// ("cpu-ns/op"): on a shared machine wall time per op swings with the load
// of other processes, CPU time much less.
type cpuTimer struct{ start int64 }

func startCPU() cpuTimer { return cpuTimer{start: cpuNanos()} }

func (c cpuTimer) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuNanos()-c.start)/float64(b.N), "cpu-ns/op")
	}
}
