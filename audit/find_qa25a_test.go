package audit

import (
	"errors"
	"testing"
)

// TestFindFailsOnMalformedIndexKey: a key of the wrong length where the
// walk expected one of the value it looks for (someone writing the file
// added it; verify reports it) ended the walk as if the index ended
// there: a time-ordered page (no filter, or only from/to) or a patient's
// accounting stopped short with no error, and an auditor read the entries
// after it as never disclosed. Find fails instead.
func TestFindFailsOnMalformedIndexKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ix   *index
		q    Query
		key  func(b buckets) []byte
	}{
		{"by_time", byTime, Query{}, func(b buckets) []byte {
			return byTime.key(b.c, "", timeKey(t0.Add(3*60e9)), 3)[:15]
		}},
		{"by_patient", byPatient, Query{Patient: "Patient/a"}, func(b buckets) []byte {
			return append(byPatient.key(b.c, "Patient/a", timeKey(t0.Add(3*60e9)), 3), 'x')
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			l.indexEvery = 1
			appendSamples(t, l, 8)
			if got, err := l.Find(t.Context(), tc.q); err != nil || len(got) < 4 {
				t.Fatalf("Find before tampering = %d entries, %v", len(got), err)
			}
			tamper(t, l, func(t *testing.T, b buckets) { mustPut(t, mustIx(t, b, tc.ix), tc.key(b), nil) })
			got, err := l.Find(t.Context(), tc.q)
			if err == nil {
				t.Errorf("Find past a malformed %s key = %v (%d entries), no error", tc.name, seqs(got), len(got))
			}
			var broken *BrokenError
			if _, err := l.Verify(t.Context()); !errors.As(err, &broken) {
				t.Errorf("Verify = %v, want it broken", err)
			}
		})
	}
}
