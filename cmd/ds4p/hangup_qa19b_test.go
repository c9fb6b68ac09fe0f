//go:build unix

package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeIgnoresHangup: a SIGHUP (systemctl reload, kill -HUP) while
// serve runs is logged and ignored; without the handler Go's default
// action kills the process (here, the test binary). serve then stops
// cleanly on its context.
func TestServeIgnoresHangup(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done, stderr, started := serveUntilListening(ctx, []string{"--listen", "127.0.0.1:18462", "--dev-auth", "--data", t.TempDir(), "--upstream", "http://127.0.0.1:18463/fhir"})
	if !started {
		cancel()
		t.Fatalf("serve did not start: %v; stderr %s", <-done, stderr.String())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// Waits for the line (the test's -timeout bounds it); no pass/fail on time.
	for !strings.Contains(stderr.String(), "SIGHUP ignored") {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after SIGHUP: %v", err)
	}
}

// serveUntilListening runs serve with args until ctx ends, and returns once
// it printed its listening line (started) or ended first; its stdout is
// drained after that, its stderr kept.
func serveUntilListening(ctx context.Context, args []string) (done <-chan error, stderr *lockedBuffer, started bool) {
	pr, pw := io.Pipe()
	stderr = &lockedBuffer{}
	ch := make(chan error, 1)
	go func() {
		ch <- runServe(ctx, args, pw, stderr)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ds4p listening on") {
			started = true
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return ch, stderr, started
}
