//go:build unix

package proxy

import "syscall"

// processCPUNanos is the user and system CPU time of the process so far:
// on a shared, loaded machine it measures the work of a benchmark where
// wall time measures the queue for a core.
func processCPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
