package audit

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestFind checks selection by patient, recipient, purpose, break-glass and
// time range, and paging by cursor. Entries 1..20 alternate Patient/a (odd)
// and Patient/b (even); entry i is i minutes after t0; entries divisible by
// 3 come from Organization/y for PAYMT, and entries divisible by 5 are
// break-the-glass.
func TestFind(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendVaried(t, l, 20)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	after := func(seq int) Cursor { return CursorAfter(Entry{Seq: uint64(seq), Time: at(seq)}) }
	tests := []struct {
		name string
		q    Query
		want []uint64
	}{
		{"all", Query{Limit: 5}, []uint64{1, 2, 3, 4, 5}},
		{"all after a cursor", Query{After: after(17)}, []uint64{18, 19, 20}},
		{"patient a", Query{Patient: "Patient/a", Limit: 4}, []uint64{1, 3, 5, 7}},
		{"patient a, next page", Query{Patient: "Patient/a", Limit: 4, After: after(7)}, []uint64{9, 11, 13, 15}},
		{"patient b, time range", Query{Patient: "Patient/b", From: at(5), To: at(12)}, []uint64{6, 8, 10}},
		{"from is inclusive, to exclusive", Query{From: at(4), To: at(6)}, []uint64{4, 5}},
		{"open-ended from", Query{Patient: "Patient/b", From: at(17)}, []uint64{18, 20}},
		{"time range with cursor", Query{From: at(4), To: at(10), After: after(7), Limit: 10}, []uint64{8, 9}},
		{"cursor before from", Query{From: at(10), To: at(12), After: after(3)}, []uint64{10, 11}},
		{"recipient organisation", Query{Recipient: "Organization/y"}, []uint64{3, 6, 9, 12, 15, 18}},
		{"recipient subject", Query{Recipient: "Practitioner/dr2"}, []uint64{3, 6, 9, 12, 15, 18}},
		{"recipient of the other entries", Query{Recipient: "Organization/x", To: at(6)}, []uint64{1, 2, 4, 5}},
		{"purpose", Query{Purpose: "PAYMT", From: at(7)}, []uint64{9, 12, 15, 18}},
		{"purpose stated with another", Query{Purpose: "HPAYMT"}, []uint64{3, 6, 9, 12, 15, 18}},
		{"break-glass only", Query{BreakGlass: true}, []uint64{5, 10, 15, 20}},
		{"break-glass of one patient", Query{BreakGlass: true, Patient: "Patient/a"}, []uint64{5, 15}},
		{"patient, recipient and purpose", Query{Patient: "Patient/b", Recipient: "Organization/y", Purpose: "PAYMT"}, []uint64{6, 12, 18}},
		{"recipient and break-glass", Query{Recipient: "Organization/y", BreakGlass: true}, []uint64{15}},
		{"unknown patient", Query{Patient: "Patient/c"}, []uint64{}},
		{"patient prefix is not a patient", Query{Patient: "Patient/"}, []uint64{}},
		{"recipient prefix is not a recipient", Query{Recipient: "Organization/"}, []uint64{}},
		{"past the end", Query{After: after(20)}, []uint64{}},
		{"cursor at the maximum", Query{After: Cursor{t: math.MaxUint64, seq: math.MaxUint64}}, []uint64{}},
		{"empty range", Query{From: at(9), To: at(9)}, []uint64{}},
		// Bounds beyond what UnixNano holds (1678–2262) once wrapped round.
		{"to far in the future (no end)", Query{Patient: "Patient/b", From: at(15), To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, []uint64{16, 18, 20}},
		{"from far in the past", Query{Patient: "Patient/a", From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: at(4)}, []uint64{1, 3}},
		{"from far in the future", Query{From: time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC)}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := l.Find(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(seqs(got)) != fmt.Sprint(tt.want) {
				t.Errorf("Find(%+v) seqs = %v, want %v", tt.q, seqs(got), tt.want)
			}
			for _, e := range got {
				if !tt.q.matches(&e) {
					t.Errorf("seq %d does not match the query", e.Seq)
				}
			}
		})
	}
}

// appendVaried appends n entries: the samples, with every third from
// another recipient and purpose, and every fifth break-the-glass.
func appendVaried(t testing.TB, l *Ledger, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		e := sample(i, []string{"Patient/b", "Patient/a"}[i%2])
		if i%3 == 0 {
			e.Caller = Party{Subject: "Practitioner/dr2", Org: "Organization/y", Client: "payer-app"}
			e.Purposes = []string{"PAYMT", "HPAYMT"}
		}
		if i%5 == 0 {
			e.BreakGlass = &BreakGlass{Reason: "unconscious patient", Recipient: e.Caller.Subject, Affiliation: e.Caller.Org, DisclosedBy: "ds4p proxy"}
		}
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFindOrdersByTime checks that entries committed out of time order
// come back in time order, and that paging through them by cursor visits
// each once.
func TestFindOrdersByTime(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	// seq 1..6 with times 3, 1, 2, 2, 6, 5 minutes after t0.
	for i, m := range []int{3, 1, 2, 2, 6, 5} {
		e := sample(i+1, "Patient/a")
		e.Time = t0.Add(time.Duration(m) * time.Minute)
		if err := l.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	want := "[2 3 4 1 6 5]"
	for _, q := range []Query{{}, {Patient: "Patient/a"}, {Recipient: "Organization/x"}, {Purpose: "TREAT"}} {
		q.Limit = 1
		if got := fmt.Sprint(seqs(findAll(t, l, q))); got != want {
			t.Errorf("paging %+v one at a time = %s, want %s", q, got, want)
		}
	}
}

// TestCursorRoundTrip checks that a cursor survives its string form and
// that anything else is refused.
func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := CursorAfter(Entry{Seq: 42, Time: t0})
	got, err := ParseCursor(c.String())
	if err != nil || got != c {
		t.Fatalf("ParseCursor(%q) = %v, %v; want %v", c.String(), got, err, c)
	}
	for _, bad := range []string{"", "42", "AQ", c.String() + "A", "!!!!"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
}

// TestFindLimits checks the default and maximum page sizes.
func TestFindLimits(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	batch := make([]Entry, MaxLimit+1)
	for i := range batch {
		batch[i] = sample(i, "Patient/a")
	}
	if err := l.Append(t.Context(), batch...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit, want int
	}{
		{0, DefaultLimit},
		{-1, DefaultLimit},
		{7, 7},
		{MaxLimit + 500, MaxLimit},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			t.Parallel()
			got, err := l.Find(t.Context(), Query{Patient: "Patient/a", Limit: tt.limit})
			if err != nil || len(got) != tt.want {
				t.Errorf("Find(limit %d) = %d entries, %v; want %d", tt.limit, len(got), err, tt.want)
			}
		})
	}
	if all := findAll(t, l, Query{Patient: "Patient/a", Limit: 300}); len(all) != MaxLimit+1 {
		t.Errorf("paging returned %d entries, want %d", len(all), MaxLimit+1)
	}
}
