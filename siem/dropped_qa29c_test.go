package siem

import (
	"errors"
	"strings"
	"testing"
)

// TestDroppedEventsTold (QA29 C): a full queue dropped new events with no
// trace in the stream (the seqs go on without a gap; only a metric of the
// proxy counted them), so a SIEM could not tell that a break_glass or
// bulk_alert event had been lost while it was down. The next event the
// queue takes is now preceded by an events_dropped event: how many, of
// which kinds; once, not with every event after.
func TestDroppedEventsTold(t *testing.T) {
	t.Parallel()
	sink := &memSink{}
	q, _, x := setup(t, sink, Config{})
	q.MaxQueued = 2
	for range 2 {
		if err := q.Emit(Event{Kind: KindPolicyLoaded, Severity: SeverityNotice}); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []string{KindBreakGlass, KindBulkAlert, KindBreakGlass} {
		if err := q.Emit(Event{Kind: kind, Severity: SeverityAlert, Subject: "dr-who"}); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("%s into a full queue: %v", kind, err)
		}
	}
	if _, err := x.Round(t.Context()); err != nil {
		t.Fatal(err)
	}
	q.MaxQueued = 10
	for range 2 {
		if err := q.Emit(Event{Kind: KindConsentChanged, Severity: SeverityNotice}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := q.after(2, 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("after the ack: %d events, %v; want the notice and the two events", len(evs), err)
	}
	n := evs[0]
	if n.Kind != KindEventsDropped || n.Count != 3 || n.Seq != 3 ||
		!strings.Contains(n.Reason, "break_glass 2") || !strings.Contains(n.Reason, "bulk_alert 1") {
		t.Fatalf("first event after the drops = %+v; want events_dropped, count 3, break_glass 2, bulk_alert 1", n)
	}
	if n.Subject != "" || strings.Contains(n.Reason, "dr-who") {
		t.Errorf("the notice names a dropped event's caller: %+v", n)
	}
	if evs[1].Kind != KindConsentChanged || evs[2].Kind != KindConsentChanged {
		t.Errorf("after the notice: %s, %s; want the two consent_changed events, no second notice", evs[1].Kind, evs[2].Kind)
	}
}

// TestDroppedNoisyNoticeWaits: a notice of dropped refused tokens alone
// does not spend the room kept for the other kinds during a flood; it
// comes once there is room, with any other drops.
func TestDroppedNoisyNoticeWaits(t *testing.T) {
	t.Parallel()
	q, _, x := setup(t, &memSink{}, Config{})
	q.MaxQueued = 10
	for i := range 10 {
		if err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning}); (i < 9) != (err == nil) {
			t.Fatalf("token_refused %d: %v", i, err)
		}
	}
	if err := q.Emit(Event{Kind: KindBreakGlass, Severity: SeverityWarning}); err != nil {
		t.Fatalf("break_glass after the flood: %v", err)
	}
	if evs, _ := q.after(9, 10); len(evs) != 1 || evs[0].Kind != KindBreakGlass {
		t.Fatalf("in the reserved room: %+v; want the break_glass event alone", evs)
	}
	if err := q.Emit(Event{Kind: KindBulkAlert, Severity: SeverityAlert}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("bulk_alert into a full queue: %v", err)
	}
	if _, err := x.Round(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning}); err != nil {
		t.Fatal(err)
	}
	evs, err := q.after(10, 10)
	if err != nil || len(evs) != 2 || evs[0].Kind != KindEventsDropped || evs[0].Count != 2 ||
		!strings.Contains(evs[0].Reason, "token_refused 1") || !strings.Contains(evs[0].Reason, "bulk_alert 1") {
		t.Fatalf("after the ack: %+v, %v; want the notice of both drops, then the event", evs, err)
	}
}
