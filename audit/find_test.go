package audit

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestFind checks selection by patient and time range, and paging by seq.
// Entries 1..20 alternate Patient/a (odd) and Patient/b (even); entry i is
// i minutes after t0.
func TestFind(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 20)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name string
		q    Query
		want []uint64
	}{
		{"all", Query{Limit: 5}, []uint64{1, 2, 3, 4, 5}},
		{"all after a cursor", Query{After: 17}, []uint64{18, 19, 20}},
		{"patient a", Query{Patient: "Patient/a", Limit: 4}, []uint64{1, 3, 5, 7}},
		{"patient a, next page", Query{Patient: "Patient/a", Limit: 4, After: 7}, []uint64{9, 11, 13, 15}},
		{"patient b, time range", Query{Patient: "Patient/b", From: at(5), To: at(12)}, []uint64{6, 8, 10}},
		{"from is inclusive, to exclusive", Query{From: at(4), To: at(6)}, []uint64{4, 5}},
		{"open-ended from", Query{Patient: "Patient/b", From: at(17)}, []uint64{18, 20}},
		{"time range with cursor", Query{From: at(4), To: at(10), After: 7, Limit: 10}, []uint64{8, 9}},
		{"unknown patient", Query{Patient: "Patient/c"}, []uint64{}},
		{"patient prefix is not a patient", Query{Patient: "Patient/"}, []uint64{}},
		{"past the end", Query{After: 20}, []uint64{}},
		{"cursor at the maximum", Query{After: math.MaxUint64}, []uint64{}},
		{"empty range", Query{From: at(9), To: at(9)}, []uint64{}},
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
				if tt.q.Patient != "" && e.Patient != tt.q.Patient {
					t.Errorf("seq %d belongs to %s", e.Seq, e.Patient)
				}
			}
		})
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
