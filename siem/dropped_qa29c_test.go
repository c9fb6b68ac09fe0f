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
