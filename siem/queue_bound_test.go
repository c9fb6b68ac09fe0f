package siem

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// TestEmitCutsTheReason (QA17 F7): a refused token's reason was queued
// durably as given, ~41 KB per unauthenticated request; Emit now keeps
// MaxReasonBytes of it, cut on a UTF-8 boundary.
func TestEmitCutsTheReason(t *testing.T) {
	t.Parallel()
	q, _, _ := setup(t, &memSink{}, Config{})
	for _, reason := range []string{strings.Repeat("\uFFFE", 10_000), "a" + strings.Repeat("é", 1000), "short"} {
		if err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := q.after(0, 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("after = %d events, %v", len(evs), err)
	}
	for _, ev := range evs[:2] {
		if len(ev.Reason) > MaxReasonBytes || !utf8.ValidString(ev.Reason) || !strings.HasSuffix(ev.Reason, "…") {
			t.Errorf("reason of %d bytes (valid UTF-8 %v): %.80q…", len(ev.Reason), utf8.ValidString(ev.Reason), ev.Reason)
		}
	}
	if evs[2].Reason != "short" {
		t.Errorf("a short reason changed: %q", evs[2].Reason)
	}
}

// TestQueueBoundedByBytes (QA17 F7): the queue was bounded by count alone
// (1,000,000 events of any size); it is bounded by the bytes of the queued
// JSON too. A full queue drops the new event, never a queued one, and
// takes events again once the export acknowledged, with no gap in seqs.
func TestQueueBoundedByBytes(t *testing.T) {
	t.Parallel()
	sink := &memSink{}
	q, _, x := setup(t, sink, Config{})
	q.MaxQueuedBytes = 4100
	big := Event{Kind: KindBulkAlert, Severity: SeverityAlert, Subject: strings.Repeat("s", 900)}
	n := 0
	for ; n < 100; n++ {
		if err := q.Emit(big); errors.Is(err, ErrQueueFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	queued, err := q.QueuedBytes()
	if n != 4 || err != nil || queued > 4100 || queued < 3600 {
		t.Fatalf("%d events of ~1 KB queued (%d bytes, %v) under a 4,100-byte bound; want 4", n, queued, err)
	}
	if _, err := x.Round(t.Context()); err != nil {
		t.Fatal(err)
	}
	if queued, err := q.QueuedBytes(); queued != 0 || err != nil {
		t.Fatalf("after the ack: %d bytes queued, %v", queued, err)
	}
	if err := q.Emit(big); err != nil {
		t.Fatalf("after the ack: %v", err)
	}
	evs, err := q.after(4, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq != 5 || evs[0].Kind != KindEventsDropped || evs[1].Seq != 6 {
		t.Fatalf("next events = %+v, %v; want the drop's notice at seq 5, the event at 6", evs, err)
	}
	if len(sink.lines) != 4 {
		t.Errorf("%d events delivered, want the 4 queued", len(sink.lines))
	}
}

// TestNoisyEventsLeaveRoom: refused tokens (which an unauthenticated
// caller raises at will) fill the queue only to 90 %, so a break_glass
// event after a flood of them is still queued.
func TestNoisyEventsLeaveRoom(t *testing.T) {
	t.Parallel()
	q, _, _ := setup(t, &memSink{}, Config{})
	q.MaxQueued = 10
	for i := range 10 {
		err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning})
		if (i < 9) != (err == nil) {
			t.Fatalf("token_refused %d: %v", i, err)
		}
	}
	if err := q.Emit(Event{Kind: KindBreakGlass, Severity: SeverityWarning}); err != nil {
		t.Fatalf("break_glass after a flood of refused tokens: %v", err)
	}
	if err := q.Emit(Event{Kind: KindBreakGlass, Severity: SeverityWarning}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("beyond MaxQueued: %v", err)
	}
}

// TestQueuedBytesCountedOnOpen: a store from before the count was kept
// (events queued, no count) is counted when the queue is opened.
func TestQueuedBytesCountedOnOpen(t *testing.T) {
	t.Parallel()
	q, _, _ := setup(t, &memSink{}, Config{})
	for range 3 {
		if err := q.Emit(Event{Kind: KindPolicyLoaded, Severity: SeverityNotice, Revision: "r1"}); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := q.QueuedBytes()
	if err := q.db.Update(func(tx *bbolt.Tx) error {
		s, _ := schemaOf(tx)
		return s.Bucket(cursorBucket).Delete(queuedKey)
	}); err != nil {
		t.Fatal(err)
	}
	q2, err := OpenQueue(q.db)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := q2.QueuedBytes(); got != want || want == 0 || err != nil {
		t.Errorf("counted on open: %d, %v; want %d", got, err, want)
	}
}
