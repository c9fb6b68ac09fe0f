package siem

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileSinkOnAPipeQA40C (QA round 40, area C): siem.file naming a FIFO
// or a character device (DS4P_SIEM_FILE=/dev/stdout in a container, whose
// stdout is a pipe) had every batch written and then failed by fsync,
// which a pipe refuses (EINVAL): the exporter never stored its cursor and
// wrote the same first batch again at every retry, forever, while the
// security events piled up to the queue's bound and were dropped. Written
// to a pipe is as far as a file sink can deliver: each record arrives
// once and the cursor advances.
func TestFileSinkOnAPipeQA40C(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "siem.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal("making a FIFO:", err)
	}
	lines := make(chan []string, 1)
	go func() {
		var got []string
		defer func() { lines <- got }()
		f, err := os.Open(fifo) // blocks until the sink opens it
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
	}()
	sink, err := NewFileSink(fifo)
	if err != nil {
		t.Fatal(err)
	}
	q, l, x := setup(t, sink, Config{})
	ctx := t.Context()
	if err := l.Append(ctx, entry(1, "Patient/a"), entry(2, "Patient/b")); err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning, Subject: "u1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // a failed round is retried, as Run does
		if _, err := x.Round(ctx); err != nil {
			t.Errorf("round %d: %v", i+1, err)
		}
	}
	if c, _ := q.Cursor(); c != (Cursor{Ledger: 2, Events: 1}) {
		t.Errorf("cursor = %+v, want ledger 2, events 1", c)
	}
	_ = sink.Close()
	seen := map[string]int{}
	for _, l := range parse(t, <-lines) {
		seen[fmt.Sprintf("%s:%d", l.Stream, l.Seq)]++
	}
	for _, k := range []string{"ledger:1", "ledger:2", "security:1"} {
		if seen[k] != 1 {
			t.Errorf("%s delivered %d times, want once (all: %v)", k, seen[k], seen)
		}
	}
}
