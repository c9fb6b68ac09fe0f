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
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--listen", "127.0.0.1:18462", "--dev-auth", "--data", t.TempDir(), "--upstream", "http://127.0.0.1:18463/fhir"}, pw, &stderr)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	started := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ds4p listening on") {
			started = true
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
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
