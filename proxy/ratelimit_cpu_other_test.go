//go:build !unix

package proxy

func processCPUNanos() int64 { return 0 }
