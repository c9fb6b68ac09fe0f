package audit

import (
	"fmt"
	"testing"
	"time"
)

// TestFindThroughQA38C (QA round 38, area C): Query.Through, or the bound
// a cursor carries, leaves out the entries appended after a listing began,
// on every index and among the entries no index holds yet; a cursor
// carrying a bound survives its string form, and one without keeps the
// form of the releases before it.
func TestFindThroughQA38C(t *testing.T) {
	t.Parallel()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	for _, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiting=%v", waiting), func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			if waiting {
				l.indexEvery = 64
			}
			appendVaried(t, l, 20)
			after7 := CursorAfter(Entry{Seq: 7, Time: at(7)})
			tests := []struct {
				q    Query
				want string
			}{
				{Query{Through: 12}, "[1 2 3 4 5 6 7 8 9 10 11 12]"},
				{Query{Through: 12, Patient: "Patient/a"}, "[1 3 5 7 9 11]"},
				{Query{Through: 12, Recipient: "Organization/y"}, "[3 6 9 12]"},
				{Query{Through: 12, Purpose: "PAYMT"}, "[3 6 9 12]"},
				{Query{Through: 12, BreakGlass: true}, "[5 10]"},
				{Query{After: after7.WithThrough(12)}, "[8 9 10 11 12]"},
				{Query{After: after7.WithThrough(12), Through: 9}, "[8 9]"},
				{Query{After: after7}, "[8 9 10 11 12 13 14 15 16 17 18 19 20]"},
			}
			for _, tt := range tests {
				find := l.findAsStored // the entries waiting, read as stored
				if !waiting {
					find = func(q Query) ([]Entry, error) { return l.Find(t.Context(), q) } // indexed first
				}
				got, err := find(tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(seqs(got)) != tt.want {
					t.Errorf("find(%+v) = %v, want %s", tt.q, seqs(got), tt.want)
				}
			}
		})
	}
	c := CursorAfter(Entry{Seq: 42, Time: t0})
	if s := c.String(); len(s) != 23 || s[0] != 'A' {
		t.Errorf("a cursor without a bound = %q, want the version 1 form", s)
	}
	bounded := c.WithThrough(50)
	got, err := ParseCursor(bounded.String())
	if err != nil || got != bounded || got.Through() != 50 {
		t.Errorf("ParseCursor(%q) = %v, %v; want %v", bounded.String(), got, err, bounded)
	}
	if got, err := ParseCursor(c.String()); err != nil || got.Through() != 0 {
		t.Errorf("ParseCursor(version 1) = %v, %v", got, err)
	}
}
